/**
 * Real ONNX exports made by other tools (test/fixtures/real-exports: ONNX Runtime's and Optimum's own test models,
 * each folder's SOURCE.txt says where from): what works is checked against ONNX Runtime run directly on the same
 * graph, what cannot work must be a clear error. Random or toy weights: graph names, types and shapes, never quality.
 *
 *   ort-bert-toy-pretraining     input_mask, prediction_scores: fill works; no [unusedN] is ever offered
 *   optimum-tiny-distilbert-sst2 a classifier: an encoder (not a masked LM); fill refuses clearly; attention works
 *   ort-tfbert-squad-keras2onnx  int32 inputs, sequence length fixed at 7: attention works at 7 tokens, else a message
 *   ort-bert-squad-pt            ONNX Runtime 1.30 cannot load it: MODEL_CORRUPT saying so; the rest keeps working
 *   ort-gpt2-nopast-lmhead       8 positions, no cache: generation slides the window; greedy = ORT's argmax
 *   ort-gpt2-past                no LM head (and the old past_{i} layout): generate refuses clearly
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { headMatrix } from '../../src/engine/tasks/attention/attentionTensor';
import type { Engine } from '../../src/engine/engine';
import { logSoftmax } from '../../src/engine/sampling';
import { loadTokenizer } from '../../src/engine/tokenizer';
import { REPO_ROOT } from './helpers/modelFolders';
import { lensError } from './helpers/lensError';
import { suiteEngine } from './helpers/suiteEngine';

const EXPORTS = path.join(REPO_ROOT, 'test', 'fixtures', 'real-exports');
const onnxOf = (id: string): string => path.join(EXPORTS, id, 'onnx', 'model.onnx');

/** ONNX Runtime's own logits for one row of ids, every input fed as the graph declares it. */
async function ortLogits(id: string, ids: number[], output: string): Promise<{ data: Float32Array; vocab: number }> {
  const session = await ort.InferenceSession.create(onnxOf(id));
  const feeds: Record<string, ort.Tensor> = {};
  for (const meta of session.inputMetadata) {
    const values = meta.name === 'input_ids' ? ids : meta.name === 'input_mask' ? ids.map(() => 1) : ids.map(() => 0);
    feeds[meta.name] = new ort.Tensor('int64', BigInt64Array.from(values, BigInt), [1, ids.length]);
  }
  const result = (await session.run(feeds, [output]))[output]!;
  await session.release();
  return { data: result.data as Float32Array, vocab: result.dims[2]! };
}

function assertDistributions(attentions: Parameters<typeof headMatrix>[0], shape: { layers: number; heads: number; tokens: number }): void {
  for (let l = 0; l < shape.layers; l++) {
    for (let h = 0; h < shape.heads; h++) {
      const m = headMatrix(attentions, shape, l, h);
      for (let q = 0; q < shape.tokens; q++) {
        const sum = m.subarray(q * shape.tokens, (q + 1) * shape.tokens).reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - 1) < 1e-4, `L${l} H${h} row ${q} sums to ${sum}`);
      }
    }
  }
}

describe('real exports made by other tools', { skip: existsSync(EXPORTS) ? false : `${EXPORTS} is missing` }, () => {
  let engine: Engine;
  suiteEngine(EXPORTS, 'lm-lens-real-exports-', (e) => (engine = e));

  test('kinds come from the graph and config.json architectures, not model_type alone', async () => {
    const models = await engine.listModels();
    const kinds = Object.fromEntries(models.map((m) => [m.id, m.kind]));
    assert.deepEqual(kinds, {
      'optimum-tiny-distilbert-sst2': 'encoder',
      'ort-bert-squad-pt': 'encoder',
      'ort-bert-toy-pretraining': 'masked-lm',
      'ort-gpt2-nopast-lmhead': 'causal-lm',
      'ort-gpt2-past': 'causal-lm',
      'ort-tfbert-squad-keras2onnx': 'encoder',
    });
    const note = (id: string): string => models.find((m) => m.id === id)?.note ?? '';
    assert.match(note('optimum-tiny-distilbert-sst2'), /DistilBertForSequenceClassification.*logits \[batch, 2\]/);
    assert.match(note('ort-bert-squad-pt'), /BertForQuestionAnswering/);
    assert.match(note('ort-tfbert-squad-keras2onnx'), /TFBertForQuestionAnswering/);
    assert.equal(note('ort-bert-toy-pretraining'), '');
    assert.equal((await engine.models.scan()).problems.length, 0, 'the scan reads every graph without ONNX Runtime');
  });

  test('fill on an old BertForPreTraining (input_mask, prediction_scores): the candidates and probabilities ORT gives', async () => {
    const id = 'ort-bert-toy-pretraining';
    const text = 'The dog [MASK] at the cat.';
    const result = await engine.fill({ text, topK: 8, model: id });
    const tokenizer = await loadTokenizer(path.join(EXPORTS, id));
    const ids = tokenizer.encode(text).ids;
    const at = ids.indexOf(tokenizer.token_to_id('[MASK]')!);
    const { data, vocab } = await ortLogits(id, ids, 'prediction_scores');
    const logProbs = logSoftmax(data.subarray(at * vocab, (at + 1) * vocab));
    // what fill may offer: whole words, no special token, no [unusedN] placeholder
    const offerable = [...Array(vocab).keys()].filter((v) => {
      const token = tokenizer.id_to_token(v) ?? '';
      return v > 4 && !token.startsWith('##') && !/^\[unused\d+\]$/.test(token);
    });
    const expected = offerable.sort((a, b) => logProbs[b]! - logProbs[a]!).slice(0, 8);
    const predictions = result.masks[0]!.predictions;
    assert.deepEqual(predictions.map((p) => p.tokenId), expected);
    predictions.forEach((p) => assert.ok(Math.abs(p.score - Math.exp(logProbs[p.tokenId]!)) < 1e-5, `${p.token}: ${p.score}`));
    // the random toy model ranks [unusedN] entries high: they are left out, not just pushed down
    const unusedAbove = [...Array(vocab).keys()].filter((v) => /^\[unused/.test(tokenizer.id_to_token(v) ?? '') && logProbs[v]! > logProbs[expected[7]!]!);
    assert.ok(unusedAbove.length > 0, 'the fixture still has [unusedN] entries among the top candidates (else this test proves nothing)');
    assert.ok(predictions.every((p) => !/unused|^\[/.test(p.token)), predictions.map((p) => p.token).join(' '));
  });

  test('pseudo-log-likelihood on the old BertForPreTraining: its head rewritten to the masked positions, the sums ORT gives', async () => {
    const id = 'ort-bert-toy-pretraining';
    const sentence = 'The dog sat at the cat.';
    const result = await engine.logLikelihoods({ sentences: [sentence], model: id });
    assert.equal(result.headAtScoredPositions, true, 'the rewritten copy (prediction_scores only) passed its check');
    const tokenizer = await loadTokenizer(path.join(EXPORTS, id));
    const ids = tokenizer.encode(sentence).ids;
    const maskId = tokenizer.token_to_id('[MASK]')!;
    let expected = 0;
    for (let i = 1; i < ids.length - 1; i++) {
      const row = ids.map((v, j) => (j === i ? maskId : v));
      const { data, vocab } = await ortLogits(id, row, 'prediction_scores');
      expected += logSoftmax(data.subarray(i * vocab, (i + 1) * vocab))[ids[i]!]!;
    }
    assert.equal(result.tokens[0], ids.length - 2);
    assert.ok(Math.abs(result.logLikelihoods[0]! - expected) < 1e-3, `${result.logLikelihoods[0]} vs ${expected}`);
  });

  test('fill on a classifier or a QA model: BAD_INPUT that says why, never ORT\'s "invalid output name"', async () => {
    await assert.rejects(
      engine.fill({ text: 'The [MASK] sat.', model: 'optimum-tiny-distilbert-sst2' }),
      lensError('BAD_INPUT', /encoder model; fill needs a masked-lm model.*DistilBertForSequenceClassification/),
    );
    await assert.rejects(engine.fill({ text: 'The [MASK] sat.', model: 'ort-tfbert-squad-keras2onnx' }), lensError('BAD_INPUT', /QuestionAnswering/));
  });

  test('attention on a DistilBERT classifier (its graph rewritten): every layer and head, rows sum to 1', async () => {
    const result = await engine.attention({ text: 'the river bank', model: 'optimum-tiny-distilbert-sst2' });
    assert.equal(result.kind, 'encoder');
    assert.equal(result.layers, 2);
    assert.equal(result.heads, 2);
    assertDistributions(result.attentions, { layers: 2, heads: 2, tokens: result.tokens.length });
  });

  test('keras2onnx int32 inputs: fed as int32; the fixed sequence length (7) is explained, not an ORT type error', async () => {
    const id = 'ort-tfbert-squad-keras2onnx';
    const result = await engine.attention({ text: 'the dog sat on mat', model: id }); // [CLS] + 5 + [SEP] = 7
    assert.equal(result.tokens.length, 7);
    assert.equal(result.layers, 24);
    assert.equal(result.heads, 2);
    assertDistributions(result.attentions, { layers: 24, heads: 2, tokens: 7 });
    await assert.rejects(
      engine.attention({ text: 'the dog sat on the mat', model: id }),
      lensError('INPUT_TOO_LONG', /exactly 7 tokens.*this text has 8/),
    );
  });

  test('a graph ONNX Runtime cannot load: MODEL_CORRUPT naming the file, and the engine keeps working', async () => {
    await assert.rejects(
      engine.attention({ text: 'the dog sat on the mat .', model: 'ort-bert-squad-pt' }),
      lensError('MODEL_CORRUPT', /^Model "ort-bert-squad-pt" \(a copy of .*ort-bert-squad-pt.onnx.model\.onnx .*\): ONNX Runtime could not load/),
    );
    const fill = await engine.fill({ text: 'The [MASK] sat.', model: 'ort-bert-toy-pretraining' });
    assert.equal(fill.masks.length, 1);
  });

  test('GPT-2 with an added LM head and 8 positions: greedy tokens are ORT argmaxes, and the window slides', async () => {
    const id = 'ort-gpt2-nopast-lmhead';
    const result = await engine.generate({ text: 'the bird', maxTokens: 12, minTokens: 12, model: id });
    assert.equal(result.tokens, 12, 'an 8-position window does not stop generation');
    assert.equal(result.finishReason, 'length');
    assert.equal(result.cache, false, 'no past inputs: every step runs the window');
    // the same greedy loop by hand: run the window (the last 6 ids after each slide), take the argmax
    const tokenizer = await loadTokenizer(path.join(EXPORTS, id));
    let ids = tokenizer.encode('the bird').ids.slice(-4); // promptBudget(8, 12, 8) = 4
    assert.equal(result.promptTokens, 4);
    const expected: number[] = [];
    while (expected.length < 12) {
      if (ids.length > 8) ids = ids.slice(-6);
      const { data, vocab } = await ortLogits(id, ids, 'logits');
      const row = Array.from(data.subarray((ids.length - 1) * vocab, ids.length * vocab));
      row[19] = -Infinity; // <|endoftext|>, held back by minTokens
      const next = row.indexOf(Math.max(...row));
      expected.push(next);
      ids = [...ids, next];
    }
    assert.equal(result.completion, tokenizer.decode(expected, { skip_special_tokens: true }));
  });

  test('GPT2Model without an LM head: generate and score say so, naming its outputs', async () => {
    const noHead = lensError('BAD_INPUT', /"ort-gpt2-past" has no language-model logits output .*last_state.*LM head/);
    await assert.rejects(engine.generate({ text: 'the bird', maxTokens: 2, model: 'ort-gpt2-past' }), noHead);
    await assert.rejects(engine.score({ text: 'the bird', model: 'ort-gpt2-past' }), noHead);
  });
});
