import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { LensError } from '../../src/engine/errors';
import { PromiseCache } from '../../src/engine/promiseCache';
import { clearTokenizerCache, loadTokenizer } from '../../src/engine/tokenizer';
import { wordPieceJson } from './helpers/lmModels';
import { tempDir, writeModelFolder } from './helpers/modelFolders';

/**
 * A tiny WordPiece tokenizer.json in the Hugging Face format (BERT's scheme). Note: @huggingface/tokenizers
 * 0.2.0 has no WordLevel model; a WordLevel tokenizer.json falls back to a legacy model that gives unknown
 * words an `undefined` id, so word-level models should not rely on its [UNK] handling.
 */
const TOKENIZER_JSON = wordPieceJson({
  vocab: ['[UNK]', '[CLS]', '[SEP]', 'the', 'river', 'bank', '##s'],
  special: ['[UNK]', '[CLS]', '[SEP]'],
  normalizer: { type: 'Lowercase' },
  preTokenizer: { type: 'Whitespace' },
});

describe('loadTokenizer', () => {
  const dir = tempDir();
  after(() => dir.remove());

  test('loads tokenizer.json + tokenizer_config.json and encodes', async () => {
    const folder = writeModelFolder(dir.dir, 'words', {
      files: { 'tokenizer.json': JSON.stringify(TOKENIZER_JSON), 'tokenizer_config.json': JSON.stringify({ model_max_length: 32 }) },
    });
    const tokenizer = await loadTokenizer(folder);
    const encoded = tokenizer.encode('The river BANKS money');
    assert.deepEqual(encoded.tokens, ['[CLS]', 'the', 'river', 'bank', '##s', '[UNK]', '[SEP]']);
    assert.deepEqual(encoded.ids, [1, 3, 4, 5, 6, 0, 2]);
    assert.equal(tokenizer.decode([3, 5, 6]), 'the banks');
    assert.deepEqual(tokenizer.encode('the bank', { add_special_tokens: false }).ids, [3, 5]);
  });

  test('is memoised per folder (concurrent first calls share one load)', async () => {
    clearTokenizerCache();
    const folder = path.join(dir.dir, 'words');
    const [a, b] = await Promise.all([loadTokenizer(folder), loadTokenizer(folder + path.sep)]);
    assert.equal(a, b);
    assert.equal(await loadTokenizer(folder), a);
  });

  test('tokenizer_config.json is optional; a missing or broken tokenizer.json is MODEL_CORRUPT, and retried later', async () => {
    const folder = writeModelFolder(dir.dir, 'late', {});
    const corrupt = (pattern: RegExp) => (error: unknown) =>
      error instanceof LensError && error.code === 'MODEL_CORRUPT' && pattern.test(error.message);
    await assert.rejects(loadTokenizer(folder), corrupt(/tokenizer\.json is missing/));
    writeFileSync(path.join(folder, 'tokenizer.json'), '{"model": ');
    await assert.rejects(loadTokenizer(folder), corrupt(/not valid JSON/));
    writeFileSync(path.join(folder, 'tokenizer.json'), JSON.stringify(TOKENIZER_JSON));
    assert.deepEqual((await loadTokenizer(folder)).encode('bank', { add_special_tokens: false }).ids, [5]);
  });
});

describe('PromiseCache', () => {
  test('shares one load between concurrent callers', async () => {
    const cache = new PromiseCache<string, number>();
    let loads = 0;
    const load = async (): Promise<number> => {
      loads++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return 42;
    };
    assert.deepEqual(await Promise.all([cache.get('k', load), cache.get('k', load)]), [42, 42]);
    assert.equal(loads, 1);
  });

  test('evicts a rejected load (sync throw or rejection) so a retry can succeed', async () => {
    const cache = new PromiseCache<string, number>();
    await assert.rejects(cache.get('k', () => { throw new Error('sync'); }), /sync/);
    assert.equal(cache.has('k'), false);
    await assert.rejects(cache.get('k', async () => { throw new Error('async'); }), /async/);
    assert.equal(cache.has('k'), false);
    assert.equal(await cache.get('k', async () => 7), 7);
    assert.equal(cache.has('k'), true);
  });

  test('with maxEntries, forgets the least recently used key first', async () => {
    const cache = new PromiseCache<string, string>({ maxEntries: 2 });
    const loaded: string[] = [];
    const load = async (key: string): Promise<string> => {
      loaded.push(key);
      return key.toUpperCase();
    };
    await cache.get('a', load);
    await cache.get('b', load);
    assert.equal(await cache.get('a', load), 'A'); // a is now the most recently used
    await cache.get('c', load); // evicts b
    assert.equal(cache.size, 2);
    assert.deepEqual([cache.has('a'), cache.has('b'), cache.has('c')], [true, false, true]);
    assert.equal(await cache.get('b', load), 'B'); // loaded again; evicts a
    assert.deepEqual(loaded, ['a', 'b', 'c', 'b']);
    assert.equal(cache.has('a'), false);
  });
});
