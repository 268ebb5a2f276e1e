/** Sampling math (temperature, top-k, top-p, min-p), the seeded PRNG, and the text helpers of generation. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { findStop, heldBack, promptBudget } from '../../src/engine/tasks/generate/generate';
import {
  MIN_TEMPERATURE,
  argmax,
  chooseToken,
  logSoftmax,
  logSumExp,
  mulberry32,
  penalizeRepeats,
  samplingDistribution,
  topKIndices,
} from '../../src/engine/sampling';

const close = (a: number, b: number, eps = 1e-9): void => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);
const softmax = (xs: number[]): number[] => {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
};

describe('mulberry32', () => {
  test('the same seed gives the same sequence; another seed another one; values in [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const xs = Array.from({ length: 1000 }, () => a());
    assert.deepEqual(xs, Array.from({ length: 1000 }, () => b()));
    assert.notDeepEqual(xs.slice(0, 10), Array.from({ length: 10 }, () => c()));
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
  });
});

describe('softmax helpers', () => {
  test('logSumExp and logSoftmax are stable for large logits', () => {
    close(logSumExp([1000, 1000]), 1000 + Math.log(2));
    const lp = logSoftmax(Float32Array.of(1000, 999, -Infinity));
    close(Math.exp(lp[0]!) + Math.exp(lp[1]!), 1);
    assert.equal(lp[2], -Infinity);
  });

  test('argmax takes the first of equal maxima; topKIndices sorts, breaks ties by index, skips excluded', () => {
    assert.equal(argmax([1, 3, 3, 2]), 1);
    assert.deepEqual(topKIndices([0.1, 0.5, 0.3, 0.5, 0.2], 3), [1, 3, 2]);
    assert.deepEqual(topKIndices([0.1, 0.5, 0.3, 0.5, 0.2], 2, new Set([1])), [3, 2]);
    const big = Array.from({ length: 500 }, (_, i) => Math.sin(i));
    const sorted = [...big.keys()].sort((a, b) => big[b]! - big[a]!);
    assert.deepEqual(topKIndices(big, 100), sorted.slice(0, 100), 'the large-k path agrees');
  });
});

describe('samplingDistribution', () => {
  const logits = [2, 1, 0.5, 0, -1];

  test('temperature 1, no limits: the softmax, most likely first', () => {
    const { ids, probs } = samplingDistribution(logits, { temperature: 1, topK: 0, topP: 1 });
    assert.deepEqual(ids, [0, 1, 2, 3, 4]);
    softmax(logits).forEach((p, i) => close(probs[i]!, p));
  });

  test('temperature divides the logits: low is sharper, high is flatter', () => {
    const sharp = samplingDistribution(logits, { temperature: 0.5, topK: 0, topP: 1 });
    const flat = samplingDistribution(logits, { temperature: 2, topK: 0, topP: 1 });
    softmax(logits.map((x) => x / 0.5)).forEach((p, i) => close(sharp.probs[i]!, p));
    softmax(logits.map((x) => x / 2)).forEach((p, i) => close(flat.probs[i]!, p));
    assert.ok(sharp.probs[0]! > flat.probs[0]!);
  });

  test('top-k keeps the k most likely and renormalises', () => {
    const { ids, probs } = samplingDistribution(logits, { temperature: 1, topK: 2, topP: 1 });
    assert.deepEqual(ids, [0, 1]);
    softmax([2, 1]).forEach((p, i) => close(probs[i]!, p));
  });

  test('top-p keeps the smallest prefix whose mass reaches p, at least one token', () => {
    const full = softmax(logits);
    const p = full[0]! + full[1]! - 1e-6; // just under the first two: two are needed
    const { ids, probs } = samplingDistribution(logits, { temperature: 1, topK: 0, topP: p });
    assert.deepEqual(ids, [0, 1]);
    close(probs.reduce((a, b) => a + b, 0), 1);
    assert.deepEqual(samplingDistribution(logits, { temperature: 1, topK: 0, topP: 0.01 }).ids, [0]);
  });

  test('min-p keeps the tokens at least min-p times as likely as the first, after the temperature', () => {
    // relative to the first at T 1: e^-1 0.37, e^-1.5 0.22, e^-2 0.14, e^-3 0.05
    const { ids, probs } = samplingDistribution(logits, { temperature: 1, topK: 0, topP: 1, minP: 0.2 });
    assert.deepEqual(ids, [0, 1, 2]);
    softmax([2, 1, 0.5]).forEach((p, i) => close(probs[i]!, p));
    // at T 0.5 the ratios square (e^-2 0.14 for the second): only the first is left
    assert.deepEqual(samplingDistribution(logits, { temperature: 0.5, topK: 0, topP: 1, minP: 0.2 }).ids, [0]);
    // with top-k and top-p: the shortest of the cuts (each keeps a prefix of the same order)
    assert.deepEqual(samplingDistribution(logits, { temperature: 1, topK: 2, topP: 1, minP: 0.1 }).ids, [0, 1]);
    assert.deepEqual(samplingDistribution(logits, { temperature: 1, topK: 0, topP: 0.99, minP: 0.3 }).ids, [0, 1]);
    assert.deepEqual(samplingDistribution(logits, { temperature: 1, topK: 0, topP: 1, minP: 0 }).ids, [0, 1, 2, 3, 4]);
  });

  test('top-k then top-p, as Hugging Face applies them', () => {
    const { ids } = samplingDistribution(logits, { temperature: 1, topK: 3, topP: 0.8 });
    const top3 = softmax([2, 1, 0.5]);
    const expected = top3[0]! >= 0.8 ? 1 : top3[0]! + top3[1]! >= 0.8 ? 2 : 3;
    assert.equal(ids.length, expected);
  });
});

describe('tiny temperatures (issue 12)', () => {
  const logits = [2, 1, 2.5, 0, -1];

  test('a subnormal temperature is greedy, never NaN garbage', () => {
    for (const temperature of [1e-320, Number.MIN_VALUE, 1e-300, MIN_TEMPERATURE / 2]) {
      for (const seed of [1, 2, 3]) {
        assert.equal(chooseToken(logits, { temperature, topK: 0, topP: 1 }, mulberry32(seed)), 2, `temperature ${temperature}`);
      }
    }
  });

  test('the distribution stays finite however small the temperature: all the mass on the largest logit', () => {
    for (const temperature of [1e-320, 1e-6, 1e-3]) {
      const { ids, probs } = samplingDistribution(logits, { temperature, topK: 0, topP: 1 });
      assert.ok(probs.every(Number.isFinite), `temperature ${temperature}: ${probs.join(', ')}`);
      assert.equal(ids[0], 2);
      assert.ok(Math.abs(probs[0]! - 1) < 1e-12);
    }
    // large logits (thousands, like the counting model's) at a small temperature
    const big = [2400, 2401, 2399];
    assert.equal(chooseToken(big, { temperature: 1e-4, topK: 0, topP: 1 }, mulberry32(1)), 1);
  });

  test('an infinite logit does not poison the draw', () => {
    assert.equal(chooseToken([0, Infinity, 1], { temperature: 1, topK: 0, topP: 1 }, mulberry32(1)), 1);
  });
});

describe('penalizeRepeats (CTRL repetition penalty)', () => {
  test('seen tokens: positive logits divided, negative multiplied, each once however often seen; others untouched', () => {
    const logits = Float32Array.of(2, -2, 3, 0, -1);
    penalizeRepeats(logits, [0, 1, 1, 3, 0], 2);
    assert.deepEqual([...logits], [1, -4, 3, 0, -1]);
  });

  test('a penalty of 1 changes nothing; ids outside the row are ignored', () => {
    const logits = Float32Array.of(2, -2);
    penalizeRepeats(logits, [0, 1], 1);
    assert.deepEqual([...logits], [2, -2]);
    penalizeRepeats(logits, [-1, 2, 7], 1.5);
    assert.deepEqual([...logits], [2, -2]);
  });

  test('it moves greedy off a repeated token', () => {
    const logits = Float32Array.of(3, 2.5, 1);
    assert.equal(argmax(logits), 0);
    penalizeRepeats(logits, new Set([0]), 1.3);
    assert.equal(argmax(logits), 1);
  });
});

describe('chooseToken', () => {
  test('temperature 0 is argmax whatever the random source', () => {
    assert.equal(chooseToken([0, 5, 1], { temperature: 0, topK: 0, topP: 1 }, () => 0.999), 1);
  });

  test('a seed reproduces the draws; draw frequencies follow the distribution', () => {
    const logits = [1, 0, -1, -30];
    const options = { temperature: 1, topK: 0, topP: 1 };
    const draw = (seed: number, n: number): number[] => {
      const random = mulberry32(seed);
      return Array.from({ length: n }, () => chooseToken(logits, options, random));
    };
    assert.deepEqual(draw(7, 50), draw(7, 50));
    const counts = [0, 0, 0, 0];
    for (const id of draw(1, 20_000)) counts[id]!++;
    softmax(logits).forEach((p, i) => assert.ok(Math.abs(counts[i]! / 20_000 - p) < 0.015, `token ${i}: ${counts[i]} draws, p=${p}`));
  });

  test('top-k 1 is greedy even when sampling', () => {
    const random = mulberry32(3);
    for (let i = 0; i < 20; i++) assert.equal(chooseToken([0, 5, 4.9], { temperature: 2, topK: 1, topP: 1 }, random), 1);
  });
});

describe('generation text helpers', () => {
  test('heldBack: the end of the text that could still become a stop string', () => {
    assert.equal(heldBack('hello wor', ['world']), 3);
    assert.equal(heldBack('hello', ['\n\n']), 0);
    assert.equal(heldBack('line\n', ['\n\n', 'x']), 1);
    assert.equal(heldBack('abc', []), 0);
  });

  test('findStop: the earliest stop string from a position', () => {
    assert.equal(findStop('a. b\n\nc', ['\n\n', '.'], 0), 1);
    assert.equal(findStop('a. b\n\nc', ['\n\n', '.'], 2), 4);
    assert.equal(findStop('abc', ['x'], 0), -1);
  });

  test('promptBudget: keeps all that fits, else the end, never less than half the window', () => {
    assert.equal(promptBudget(10, 5, 64), 10);
    assert.equal(promptBudget(3000, 128, 1024), 896);
    assert.equal(promptBudget(3000, 1000, 1024), 512);
    assert.equal(promptBudget(100, 30, 64), 34);
  });
});

describe('sampling without a full sort (issue 11) agrees with sorting the whole vocabulary', () => {
  /** The plain definition: sort everything, cut to the top k, then to the nucleus, walk most likely first. */
  function reference(logits: number[], o: { temperature: number; topK: number; topP: number; minP?: number }) {
    let ids = [...logits.keys()].sort((a, b) => logits[b]! - logits[a]! || a - b);
    if (o.topK > 0) ids = ids.slice(0, o.topK);
    const max = logits[ids[0]!]!;
    let w = ids.map((id) => Math.exp((logits[id]! - max) / o.temperature));
    if (o.topP < 1) {
      const total = w.reduce((a, b) => a + b, 0);
      let mass = 0;
      let n = 0;
      while (n < w.length && mass < o.topP * total) mass += w[n++]!;
      ids = ids.slice(0, Math.max(n, 1));
      w = w.slice(0, ids.length);
    }
    if (o.minP) {
      const keep = w.filter((x) => x >= o.minP! * w[0]!).length; // w is descending
      ids = ids.slice(0, keep);
      w = w.slice(0, keep);
    }
    return { ids, w };
  }
  const draw = ({ ids, w }: { ids: number[]; w: number[] }, u: number): number => {
    let r = u * w.reduce((a, b) => a + b, 0);
    for (let i = 0; i < ids.length; i++) if ((r -= w[i]!) < 0) return ids[i]!;
    return ids[ids.length - 1]!;
  };
  // a GPT-2-sized vocabulary with a peaked head and a long flat tail, as real logits have
  const random = mulberry32(11);
  const logits = Array.from({ length: 50257 }, (_, i) => (i % 997 === 0 ? 8 : 0) + 3 * Math.log(random() + 1e-9));
  const settings = [
    { temperature: 1, topK: 0, topP: 1 },
    { temperature: 0.7, topK: 0, topP: 0.9 },
    { temperature: 1.3, topK: 40, topP: 1 },
    { temperature: 1, topK: 200, topP: 0.95 },
    { temperature: 2, topK: 0, topP: 0.5 },
    { temperature: 1, topK: 0, topP: 1, minP: 0.001 },
    { temperature: 0.7, topK: 40, topP: 1, minP: 0.05 },
    { temperature: 1.2, topK: 0, topP: 0.95, minP: 0.01 },
  ];

  for (const o of settings) {
    test(`T ${o.temperature}, top-k ${o.topK}, top-p ${o.topP}, min-p ${o.minP ?? 0}: the same candidates and the same draws`, () => {
      const ref = reference(logits, o);
      const got = samplingDistribution(logits, o);
      assert.deepEqual(got.ids, ref.ids);
      const total = ref.w.reduce((a, b) => a + b, 0);
      got.probs.forEach((p, i) => close(p, ref.w[i]! / total));
      for (let seed = 1; seed <= 60; seed++) {
        const u = mulberry32(seed)();
        assert.equal(chooseToken(logits, o, mulberry32(seed)), draw(ref, u), `seed ${seed}`);
      }
    });
  }

  test('a token masked to -Infinity (end of text before minTokens) is never drawn, even from a rounding sliver', () => {
    const masked = [1, 1, -Infinity];
    for (let seed = 1; seed <= 50; seed++) assert.notEqual(chooseToken(masked, { temperature: 1, topK: 0, topP: 1 }, mulberry32(seed)), 2);
    assert.notEqual(chooseToken(masked, { temperature: 1, topK: 0, topP: 1 }, () => 1 - Number.EPSILON), 2);
    assert.deepEqual(samplingDistribution(masked, { temperature: 1, topK: 3, topP: 1 }).ids, [0, 1]);
  });
});
