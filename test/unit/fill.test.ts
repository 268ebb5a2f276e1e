/**
 * Masked fill end to end: the production worker running a hand-built BERT-shaped model whose logits at
 * each position come from the token to its left (helpers/lmModels.ts), so the answers are known. Also
 * the real BERT (shipped, or the smoke build) when it is there: structure only, never quality.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FillResult } from '../../src/engine/api';
import { Engine, modelDirectories } from '../../src/engine/engine';
import { windowAroundMasks } from '../../src/engine/tasks/fill/fill';
import { findMaskMarkers } from '../../src/engine/tasks/fill/maskMarkers';
import { DIST, REPO_ROOT, SHIPPED_MODELS, tempDir } from './helpers/modelFolders';
import { writeLeftNeighbourBert } from './helpers/lmModels';
import { lensError } from './helpers/lensError';

const workerPath = path.join(DIST, 'worker.js');

/** Probabilities in (0, 1], sorted best first, summing to at most 1, for every mask and the sequences. */
function assertWellFormed(result: FillResult): void {
  for (const mask of result.masks) {
    const scores = mask.predictions.map((p) => p.score);
    assert.ok(scores.every((s) => s > 0 && s <= 1), `scores ${scores}`);
    assert.deepEqual(scores, [...scores].sort((a, b) => b - a), 'sorted best first');
    assert.ok(scores.reduce((a, b) => a + b, 0) <= 1 + 1e-6, 'a distribution sums to at most 1');
  }
  const joint = result.sequences.map((s) => s.score);
  assert.deepEqual(joint, [...joint].sort((a, b) => b - a));
  assert.ok(joint.reduce((a, b) => a + b, 0) <= 1 + 1e-6);
}

describe('fill (hand-built BERT-shaped model in the worker)', () => {
  const models = tempDir();
  let engine: Engine;

  before(() => {
    writeLeftNeighbourBert(models.dir, 'bert-test');
    writeLeftNeighbourBert(models.dir, 'distilbert-test', { modelType: 'distilbert', tokenTypeIds: false });
    writeLeftNeighbourBert(models.dir, 'roberta-style', { modelType: 'roberta', maskToken: '<mask>', maxPositions: 34 });
    writeLeftNeighbourBert(models.dir, 'short', { maxPositions: 12 });
    writeLeftNeighbourBert(models.dir, 'old-names-int32', { style: { int32: true, oldNames: true } });
    writeLeftNeighbourBert(models.dir, 'old-names-int64', { style: { oldNames: true } });
    engine = new Engine({ modelDirectories: modelDirectories(models.dir), workerPath });
  });
  after(async () => {
    await engine.dispose();
    models.remove();
  });

  test('one mask: top-k with probabilities, the token, and the filled text', async () => {
    const text = 'The [MASK] barked at the mailman.';
    const result = await engine.fill({ text, topK: 3, model: 'bert-test' });
    assert.equal(result.model, 'bert-test');
    assert.equal(result.masks.length, 1);
    const [mask] = result.masks;
    assert.deepEqual([mask!.index, mask!.start, mask!.end], [0, 4, 10]);
    assert.deepEqual(mask!.predictions.map((p) => p.token), ['dog', 'cat', 'mailman']);
    assert.deepEqual(mask!.predictions.map((p) => p.sequence), [
      'The dog barked at the mailman.',
      'The cat barked at the mailman.',
      'The mailman barked at the mailman.',
    ]);
    // the row after "the": dog 3, cat 2, mailman 1, the other 11 tokens 0 (specials excluded from the top-k only)
    const z = Math.exp(3) + Math.exp(2) + Math.exp(1) + 11;
    assert.ok(Math.abs(mask!.predictions[0]!.score - Math.exp(3) / z) < 1e-5);
    assert.deepEqual(result.sequences.map((s) => s.sequence), mask!.predictions.map((p) => p.sequence));
    assert.equal(result.truncated, false);
    assert.ok(result.timings.runMs > 0 && result.timings.totalMs >= result.timings.runMs);
    assertWellFormed(result);
  });

  test('other exporters (issue 13): input_mask / segment_ids, int32 inputs, prediction_scores give the same fills', async () => {
    const request = { text: 'The [MASK] barked at the [MASK].', topK: 3 };
    const expected = await engine.fill({ ...request, model: 'bert-test' });
    for (const model of ['old-names-int32', 'old-names-int64']) {
      const result = await engine.fill({ ...request, model });
      assert.deepEqual(result.masks, expected.masks, model);
      assert.deepEqual(result.sequences, expected.sequences, model);
    }
  });

  test('several masks: each mask alone, and the joint fills left to right', async () => {
    const result = await engine.fill({ text: 'the [MASK] [MASK] at the mailman.', topK: 3, model: 'bert-test' });
    assert.equal(result.masks.length, 2);
    // alone, the second mask's left neighbour is [MASK]: cat 1, dog 0.5
    assert.equal(result.masks[1]!.predictions[0]!.token, 'cat');
    assert.equal(result.masks[1]!.predictions[0]!.sequence, 'the [MASK] cat at the mailman.');
    // jointly, the first is filled first: dog -> barked
    const best = result.sequences[0]!;
    assert.deepEqual(best.tokens, ['dog', 'barked']);
    assert.equal(best.sequence, 'the dog barked at the mailman.');
    const first = result.masks[0]!.predictions[0]!.score;
    const z = Math.exp(3) + 13; // the row after "dog": barked 3, 13 others 0
    assert.ok(Math.abs(best.score - first * (Math.exp(3) / z)) < 1e-6, 'joint = product of the choices');
    assert.equal(result.sequences.length, 3);
    assertWellFormed(result);
  });

  test('<mask> markers, models without token_type_ids, and a roberta-style <mask> token', async () => {
    const a = await engine.fill({ text: 'The <mask> barked.', model: 'bert-test' });
    assert.equal(a.masks[0]!.predictions[0]!.token, 'dog');
    const b = await engine.fill({ text: 'The [MASK] barked.', model: 'distilbert-test' });
    assert.equal(b.masks[0]!.predictions[0]!.token, 'dog');
    const c = await engine.fill({ text: 'The [MASK] barked.', model: 'roberta-style' });
    assert.equal(c.masks[0]!.predictions[0]!.sequence, 'The dog barked.');
  });

  test('word-piece continuations ("##s") are not offered: a mask stands for a whole word', async () => {
    const result = await engine.fill({ text: 'the cat [MASK]', topK: 5, model: 'bert-test' });
    const tokens = result.masks[0]!.predictions.map((p) => p.token);
    assert.equal(tokens[0], 'barked');
    assert.ok(!tokens.includes('s') && !tokens.includes('##s'), tokens.join(' '));
  });

  test('a long text is cut to a window around the masks', async () => {
    const text = 'the dog barked. '.repeat(20) + 'the [MASK] barked.' + ' at the mailman.'.repeat(20);
    const result = await engine.fill({ text, model: 'short' });
    assert.equal(result.truncated, true);
    assert.equal(result.masks[0]!.predictions[0]!.token, 'dog');
  });

  test('masks too far apart for the window: INPUT_TOO_LONG', async () => {
    const text = 'the [MASK] ' + 'dog '.repeat(30) + 'the [MASK]';
    await assert.rejects(engine.fill({ text, model: 'short' }), lensError('INPUT_TOO_LONG', /closer together/));
  });

  test('bad input: empty text, no mask, too many masks, a bad top-k, a causal model', async () => {
    await assert.rejects(engine.fill({ text: '', model: 'bert-test' }), lensError('BAD_INPUT', /empty/));
    await assert.rejects(engine.fill({ text: 'the dog barked', model: 'bert-test' }), lensError('BAD_INPUT', /no mask/));
    await assert.rejects(engine.fill({ text: '[MASK] '.repeat(9), model: 'bert-test' }), lensError('BAD_INPUT', /at most 8/));
    await assert.rejects(engine.fill({ text: 'the [MASK]', topK: 0, model: 'bert-test' }), lensError('BAD_INPUT', /topK/));
    await assert.rejects(engine.fill({ text: 'the [MASK]', model: 'nope' }), lensError('MODEL_NOT_FOUND'));
  });

  test('findMaskMarkers and windowAroundMasks', () => {
    assert.deepEqual(findMaskMarkers('a [MASK] b <mask> [mask]'), [
      { start: 2, end: 8 },
      { start: 11, end: 17 },
      { start: 18, end: 24 },
    ]);
    const specials = new Set([2, 3]);
    const ids = [2, ...Array.from({ length: 20 }, (_, i) => 10 + i), 3];
    ids[15] = 4; // a mask
    const cut = windowAroundMasks(ids, [15], specials, 8);
    assert.equal(cut.truncated, true);
    assert.equal(cut.ids.length, 8);
    assert.deepEqual([cut.ids[0], cut.ids[7]], [2, 3], 'special tokens at both ends are kept');
    assert.ok(cut.ids.includes(4));
  });
});

function realBert(): string | undefined {
  for (const dir of [SHIPPED_MODELS, path.join(REPO_ROOT, 'training', 'work-smoke', 'models')]) {
    if (existsSync(path.join(dir, 'bert-mini', 'onnx', 'model.onnx'))) return dir;
  }
  return undefined;
}

describe('fill with the real BERT (bert-mini)', { skip: realBert() ? false : 'no bert-mini in media/models or training/work-smoke/models' }, () => {
  let engine: Engine;
  before(() => {
    engine = new Engine({ modelDirectories: modelDirectories(realBert()!), workerPath });
  });
  after(() => engine.dispose());

  test('"The [MASK] barked at the mailman." gives sorted probabilities and filled sentences', async () => {
    const result = await engine.fill({ text: 'The [MASK] barked at the mailman.', topK: 5, model: 'bert-mini' });
    assert.equal(result.masks[0]!.predictions.length, 5);
    for (const p of result.masks[0]!.predictions) {
      assert.ok(p.token.length > 0 && !p.token.startsWith('['), `a word, not a special token: ${p.token}`);
      assert.equal(p.sequence, `The ${p.token} barked at the mailman.`);
    }
    assertWellFormed(result);
  });

  test('two masks give joint sequences', async () => {
    const result = await engine.fill({ text: 'The [MASK] barked at the [MASK].', topK: 4, model: 'bert-mini' });
    assert.equal(result.masks.length, 2);
    assert.equal(result.sequences.length, 4);
    for (const s of result.sequences) assert.equal(s.tokens.length, 2);
    assertWellFormed(result);
  });

  test('masks side by side still get top-k whole words each', async () => {
    // the middle mask got 1 fill of 5 when only the top 36 entries were looked at
    const result = await engine.fill({ text: '[MASK] [MASK] [MASK]', topK: 5, model: 'bert-mini' });
    for (const mask of result.masks) {
      assert.equal(mask.predictions.length, 5, `mask ${mask.index}: ${mask.predictions.map((p) => p.token).join(' ')}`);
      for (const p of mask.predictions) assert.ok(p.token !== '' && !p.token.startsWith('##'), p.token);
    }
    assert.equal(result.sequences.length, 5);
    assertWellFormed(result);
  });
});
