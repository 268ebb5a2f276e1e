/** The conditional-logit scorer: softmax over candidates, gradient-descent fit, evidence, weights parsing. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FEATURES } from '../../src/engine/senses/features';
import { argmax, evidenceFor, fit, logits, parseWeights, probabilities, softmax } from '../../src/engine/senses/scorer';

const n = FEATURES.length;
const at = (name: (typeof FEATURES)[number]): number => FEATURES.indexOf(name);
/** A feature row with only the given features set. */
const row = (values: Partial<Record<(typeof FEATURES)[number], number>>): number[] => {
  const x = new Array<number>(n).fill(0);
  for (const [k, v] of Object.entries(values)) x[at(k as (typeof FEATURES)[number])] = v;
  return x;
};

describe('sense scorer', () => {
  test('softmax: hand-computed values, sums to 1, stable for large logits', () => {
    const p = softmax([0, Math.log(3)]);
    assert.ok(Math.abs(p[0]! - 0.25) < 1e-12 && Math.abs(p[1]! - 0.75) < 1e-12);
    const big = softmax([1000, 1000, 1000]);
    big.forEach((v) => assert.ok(Math.abs(v - 1 / 3) < 1e-12));
    assert.deepEqual(softmax([]), []);
  });

  test('logits are w . x and probabilities their softmax', () => {
    const weights = new Array<number>(n).fill(0);
    weights[at('lesk')] = 2;
    weights[at('prior_rank')] = 1;
    const model = { features: FEATURES, weights };
    const rows = [row({ lesk: 0.5, prior_rank: 1 }), row({ lesk: 1, prior_rank: 0.5 })];
    assert.deepEqual(logits(model, rows), [2, 2.5]);
    const p = probabilities(model, rows);
    assert.ok(Math.abs(p[1]! - 1 / (1 + Math.exp(-0.5))) < 1e-12);
    assert.equal(argmax(p), 1);
  });

  test('fit learns to prefer the feature that marks the gold sense, and ignores unused features', () => {
    // the gold candidate has the higher glove cosine; the prior points the other way half of the time
    const cases = Array.from({ length: 40 }, (_, i) => ({
      rows: [row({ glove_bag: 0.2, prior_rank: i % 2 }), row({ glove_bag: 0.6, prior_rank: 1 - (i % 2) })],
      gold: 1,
    }));
    const w = fit(cases, { use: ['glove_bag', 'prior_rank'], iterations: 300 });
    assert.ok(w.weights[at('glove_bag')]! > 1, `glove weight ${w.weights[at('glove_bag')]}`);
    assert.ok(Math.abs(w.weights[at('prior_rank')]!) < 0.05);
    assert.equal(w.weights[at('lesk')], 0);
    assert.ok(w.loss < Math.log(2));
    cases.forEach((c) => assert.equal(argmax(probabilities(w, c.rows)), 1));
  });

  test('case weights: a weight-0 case changes nothing, a weight-2 case counts as two copies; weights tip a conflict', () => {
    const agree = Array.from({ length: 20 }, () => ({ rows: [row({ glove_bag: 0.2, prior_rank: 1 }), row({ glove_bag: 0.6, prior_rank: 0.5 })], gold: 1 }));
    const against = { rows: [row({ glove_bag: 0.6, prior_rank: 1 }), row({ glove_bag: 0.2, prior_rank: 0.5 })], gold: 1 };
    const use = ['glove_bag', 'prior_rank'] as const;
    assert.deepEqual(fit([...agree, { ...against, weight: 0 }], { use, iterations: 200 }), fit(agree, { use, iterations: 200 }));
    const twice = fit([...agree, { ...against, weight: 2 }], { use, iterations: 200 });
    const copies = fit([...agree, against, against], { use, iterations: 200 });
    twice.weights.forEach((w, i) => assert.ok(Math.abs(w - copies.weights[i]!) < 1e-4, `${FEATURES[i]}: ${w} vs ${copies.weights[i]}`));
    assert.ok(Math.abs(twice.loss - copies.loss) < 1e-9);
    // glove marks the gold sense in 20 cases and the prior in 20 others: the heavier half wins
    const priorCases = Array.from({ length: 20 }, () => ({ rows: [row({ glove_bag: 0.6, prior_rank: 0.5 }), row({ glove_bag: 0.2, prior_rank: 1 })], gold: 1 }));
    const byGlove = fit([...agree.map((c) => ({ ...c, weight: 3 })), ...priorCases], { use, iterations: 300 });
    const byPrior = fit([...agree, ...priorCases.map((c) => ({ ...c, weight: 3 }))], { use, iterations: 300 });
    assert.ok(byGlove.weights[at('glove_bag')]! > 0 && byPrior.weights[at('glove_bag')]! < 0);
  });

  test('evidence: each signal\'s contribution to the chosen sense above the candidates\' mean', () => {
    const weights = new Array<number>(n).fill(0);
    weights[at('lesk')] = 2;
    weights[at('prior_count')] = 1;
    weights[at('elmo_lstm2')] = 3;
    const rows = [row({ lesk: 1, prior_count: 0, elmo_lstm2: 0.5 }), row({ lesk: 0, prior_count: 2, elmo_lstm2: 0.1 })];
    const evidence = evidenceFor({ features: FEATURES, weights }, rows, 0);
    // lesk: 2 * (1 - 0.5) = 1; elmo: 3 * (0.5 - 0.3) = 0.6; prior: 1 * (0 - 1) = -1
    assert.deepEqual(evidence, [
      { signal: 'lesk', contribution: 1 },
      { signal: 'elmo', contribution: 0.6 },
      { signal: 'prior', contribution: -1 },
    ]);
  });

  test('parseWeights maps by feature name and rejects malformed files', () => {
    const parsed = parseWeights({ features: ['lesk', 'unknown', 'prior_rank'], weights: [1.5, 9, 0.5] })!;
    assert.equal(parsed.weights[at('lesk')], 1.5);
    assert.equal(parsed.weights[at('prior_rank')], 0.5);
    assert.equal(parsed.weights.filter((w) => w !== 0).length, 2);
    assert.equal(parseWeights({ features: ['lesk'] }), undefined);
    assert.equal(parseWeights(null), undefined);
    assert.equal(parseWeights({ features: ['lesk'], weights: [1, 2] }), undefined);
  });
});
