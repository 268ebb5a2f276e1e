/**
 * Proof of the ONNX rewrite on real exports: our BERT and GPT-2 graphs output their attentions (and BERT its
 * hidden states) explicitly; the same graph stripped of those outputs (what a Hugging Face export looks like)
 * and rewritten by exposeOutputs must give the same values, max |diff| <= 1e-5, in onnxruntime-node.
 * Runs on media/models when the models are shipped, else on the training smoke build (same graphs); skipped
 * while neither is there.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { exposeOutputs } from '../../src/engine/onnx';
import { exposedModelFile } from '../../src/engine/runtime/exposed';
import { findOurModel, mergedDecoder, plainExport } from '../fixtures/hub/plainExport';
import { REPO_ROOT, tempDir } from './helpers/modelFolders';
import { maxAbsDiff } from './helpers/maxAbsDiff';

// Tests may load ONNX Runtime directly: they are not the extension host.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
type Tensor = import('onnxruntime-node').Tensor;

const TOLERANCE = 1e-5;
const TOKENS = 9;

/** Block `i` of a stacked output [n, ...rest] (a view). */
function slice(t: Tensor, i: number): Float32Array {
  const size = (t.data as Float32Array).length / t.dims[0]!;
  return (t.data as Float32Array).subarray(i * size, (i + 1) * size);
}

async function run(bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  // the production settings (runtime/ort.ts): full graph optimisation
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: 1 });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

function config(dir: string): Record<string, number> {
  return JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, number>;
}

/** Token ids spread over the vocabulary, deterministic. */
function ids(vocab: number): BigInt64Array {
  return BigInt64Array.from({ length: TOKENS }, (_, i) => BigInt((7 + i * 37) % vocab));
}

function bertFeeds(dir: string): Record<string, Tensor> {
  const c = config(dir);
  const mask = new BigInt64Array(TOKENS).fill(1n);
  mask[TOKENS - 1] = 0n; // a padded position: the mask must reach the exposed probabilities too
  return {
    input_ids: new ort.Tensor('int64', ids(c['vocab_size']!), [1, TOKENS]),
    attention_mask: new ort.Tensor('int64', mask, [1, TOKENS]),
    token_type_ids: new ort.Tensor('int64', new BigInt64Array(TOKENS), [1, TOKENS]),
  };
}

/** GPT-2 with an empty past (as the attention viewer runs it). */
function gpt2Feeds(dir: string, inputNames: readonly string[]): Record<string, Tensor> {
  const c = config(dir);
  const heads = c['n_head']!;
  const headDim = c['n_embd']! / heads;
  const feeds: Record<string, Tensor> = {
    input_ids: new ort.Tensor('int64', ids(c['vocab_size']!), [1, TOKENS]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(TOKENS).fill(1n), [1, TOKENS]),
    position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: TOKENS }, (_, i) => BigInt(i)), [1, TOKENS]),
  };
  for (const name of inputNames) {
    if (/^past_key_values\./.test(name)) feeds[name] = new ort.Tensor('float32', new Float32Array(0), [1, heads, 0, headDim]);
  }
  return feeds;
}

async function inputNamesOf(bytes: Uint8Array): Promise<readonly string[]> {
  const session = await ort.InferenceSession.create(bytes);
  const names = session.inputNames;
  await session.release();
  return names;
}

const temp = tempDir('lm-lens-rewrite-');
after(() => temp.remove());

for (const id of ['bert-mini', 'gpt2-mini']) {
  const found = findOurModel(REPO_ROOT, id);
  const skip = found ? false : `${id} is in neither media/models nor training/work-smoke/models yet`;

  describe(`rewriting ${id}${found ? ` (${found.source})` : ''}`, { skip }, () => {
    const dir = found?.dir ?? '';
    const bert = id.startsWith('bert');

    test('the stripped graph, rewritten, gives the explicit attentions and hidden states (max |diff| <= 1e-5)', async () => {
      const original = new Uint8Array(readFileSync(path.join(dir, 'onnx', 'model.onnx')));
      const plain = plainExport(original);
      const inputNames = await inputNamesOf(original);
      const feeds = bert ? bertFeeds(dir) : gpt2Feeds(dir, inputNames);

      const plainOut = await run(plain, feeds);
      assert.ok(!('attentions' in plainOut) && !('hidden_states' in plainOut), 'the stripped graph has no explicit outputs');

      const rewritten = exposeOutputs(plain);
      assert.deepEqual(rewritten.explanations, {});
      const layers = config(dir)[bert ? 'num_hidden_layers' : 'n_layer']!;
      assert.equal(rewritten.attentions.length, layers);
      assert.equal(rewritten.hiddenStates.length, layers);

      const expected = await run(original, feeds);
      const got = await run(rewritten.bytes, feeds);
      assert.equal(expected['attentions']!.dims[0], layers);
      for (let i = 0; i < layers; i++) {
        const a = got[`attentions.${i}`]!;
        assert.deepEqual(a.dims, expected['attentions']!.dims.slice(1), `attentions.${i} is [batch, heads, T, T]`);
        const diff = maxAbsDiff(a.data as Float32Array, slice(expected['attentions']!, i));
        assert.ok(diff <= TOLERANCE, `attentions.${i}: max |diff| ${diff}`);
      }
      if (bert) {
        // hidden_states.{i} is the output of block i = HF hidden_states[i + 1] (0 is the embeddings)
        assert.equal(expected['hidden_states']!.dims[0], layers + 1);
        // A pre-LayerNorm encoder's explicit last hidden state is the final LayerNorm's output (HF's convention, as
        // for GPT-2's ln_f), while the rewrite exposes block outputs: there the last block is compared by shape only.
        const preLn = (config(dir) as unknown as { pre_layer_norm?: boolean }).pre_layer_norm === true;
        for (let i = 0; i < layers; i++) {
          if (preLn && i === layers - 1) {
            assert.equal(got[`hidden_states.${i}`]!.data.length, slice(expected['hidden_states']!, i + 1).length);
            continue;
          }
          const diff = maxAbsDiff(got[`hidden_states.${i}`]!.data as Float32Array, slice(expected['hidden_states']!, i + 1));
          assert.ok(diff <= TOLERANCE, `hidden_states.${i}: max |diff| ${diff}`);
        }
      } else {
        const { n_embd: width } = config(dir);
        for (let i = 0; i < layers; i++) assert.deepEqual(got[`hidden_states.${i}`]!.dims, [1, TOKENS, width]);
      }
      // the original outputs are untouched by the rewrite
      for (const name of Object.keys(plainOut)) {
        const diff = maxAbsDiff(got[name]!.data as Float32Array, plainOut[name]!.data as Float32Array);
        assert.ok(diff <= TOLERANCE, `${name}: max |diff| ${diff}`);
      }
    });

    if (!bert) {
      test('a merged decoder (use_cache_branch, layers in both If branches), rewritten, gives the explicit attentions', async () => {
        const original = new Uint8Array(readFileSync(path.join(dir, 'onnx', 'model.onnx')));
        const merged = mergedDecoder(original);
        const rewritten = exposeOutputs(merged);
        assert.deepEqual(rewritten.explanations, {});
        const layers = config(dir)['n_layer']!;
        assert.equal(rewritten.attentions.length, layers);
        const feeds = gpt2Feeds(dir, await inputNamesOf(original));
        const expected = await run(original, feeds);
        for (const useCache of [false, true]) {
          // an empty past either way: both branches compute the same thing here
          const got = await run(rewritten.bytes, { ...feeds, use_cache_branch: new ort.Tensor('bool', [useCache], [1]) });
          for (let i = 0; i < layers; i++) {
            const diff = maxAbsDiff(got[`attentions.${i}`]!.data as Float32Array, slice(expected['attentions']!, i));
            assert.ok(diff <= TOLERANCE, `attentions.${i} (use_cache_branch ${useCache}): max |diff| ${diff}`);
          }
          const diff = maxAbsDiff(got['logits']!.data as Float32Array, expected['logits']!.data as Float32Array);
          assert.ok(diff <= TOLERANCE, `logits: max |diff| ${diff}`);
        }
      });
    }

    test('exposedModelFile rewrites a plain export once, into the cache, and keeps an explicit one as it is', async () => {
      const folder = path.join(temp.dir, id);
      mkdirSync(path.join(folder, 'onnx'), { recursive: true });
      writeFileSync(path.join(folder, 'onnx', 'model.onnx'), plainExport(readFileSync(path.join(dir, 'onnx', 'model.onnx'))));
      const cacheDir = path.join(temp.dir, 'cache');
      const outputs = bert ? ['logits'] : ['logits', 'present.0.key'];
      const model = { id, path: folder, outputs };
      const file = await exposedModelFile(model, { attentions: true, hiddenStates: true }, cacheDir);
      assert.equal(path.dirname(file), cacheDir, 'a folder LM Lens did not download keeps its cache outside');
      assert.equal(await exposedModelFile(model, { attentions: true }, cacheDir), file, 'cached');
      const session = await ort.InferenceSession.create(file);
      assert.ok(session.outputNames.includes('attentions.0') && session.outputNames.includes('hidden_states.0'));
      await session.release();

      const explicit = { id, path: dir, outputs: bert ? ['logits', 'hidden_states', 'attentions'] : ['logits', 'attentions'] };
      assert.equal(await exposedModelFile(explicit, { attentions: true }, cacheDir), path.join(dir, 'onnx', 'model.onnx'));
    });
  });
}
