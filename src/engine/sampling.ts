/**
 * Choosing the next token from a row of logits: greedy (argmax) or sampled with temperature, top-k and
 * top-p (nucleus), from a seeded PRNG so that a seed reproduces a completion exactly. Pure functions on
 * typed arrays: no model, no ONNX Runtime.
 */

export interface SamplingOptions {
  /** 0 (or below MIN_TEMPERATURE) means greedy (argmax); otherwise logits are divided by it before the softmax. */
  temperature: number;
  /** Keep only the k most likely tokens (0 = no limit). */
  topK: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (1 = no limit). */
  topP: number;
}

export const GREEDY: SamplingOptions = { temperature: 0, topK: 0, topP: 1 };

/**
 * Temperatures below this are greedy. At 1e-6 the runner-up of two logits 0.001 apart already has a
 * probability of e^-1000 = 0, so nothing changes but the arithmetic: a subnormal temperature (1e-320) made
 * `logit / temperature` overflow to Infinity and the distribution NaN, and the draw then took the last token.
 */
export const MIN_TEMPERATURE = 1e-6;

/** Whether `options` sample at all (a temperature of at least MIN_TEMPERATURE; NaN is greedy). */
export function isSampling(options: Pick<SamplingOptions, 'temperature'>): boolean {
  return options.temperature >= MIN_TEMPERATURE;
}

/** mulberry32: a tiny, fast 32-bit PRNG; the same seed gives the same sequence in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Index of the largest value (the first one on a tie). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

/** log(sum(exp(values))), computed stably. */
export function logSumExp(values: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) if (values[i]! > max) max = values[i]!;
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += Math.exp(values[i]! - max);
  return max + Math.log(sum);
}

/** Natural-log probabilities of a row of logits. */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  const lse = logSumExp(logits);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i]! - lse;
  return out;
}

/** The `k` largest entries of `values` as indices, largest first (ties: lower index first). */
export function topKIndices(values: ArrayLike<number>, k: number, exclude?: ReadonlySet<number>): number[] {
  const n = Math.min(k, values.length);
  if (n > 64) {
    const all: number[] = [];
    for (let i = 0; i < values.length; i++) if (!exclude?.has(i) && !Number.isNaN(values[i]!)) all.push(i);
    return all.sort((a, b) => values[b]! - values[a]! || a - b).slice(0, n);
  }
  const heap: number[] = []; // indices, kept sorted descending by value; small k, so insertion is fine
  for (let i = 0; i < values.length; i++) {
    if (exclude?.has(i)) continue;
    const v = values[i]!;
    if (Number.isNaN(v)) continue;
    if (heap.length === n && v <= values[heap[n - 1]!]!) continue;
    let at = heap.length;
    while (at > 0 && values[heap[at - 1]!]! < v) at--;
    heap.splice(at, 0, i);
    if (heap.length > n) heap.pop();
  }
  return heap;
}

/** A distribution over a subset of the vocabulary: token ids and their probabilities (summing to 1). */
export interface Candidates {
  ids: number[];
  probs: number[];
}

/**
 * The distribution sampling draws from: logits / temperature, cut to the top k, softmaxed, then cut to
 * the nucleus (smallest prefix whose mass reaches top-p) and renormalised. Sorted most likely first.
 * The largest logit is subtracted before dividing, so a small temperature sends the others to -Infinity
 * (probability 0) instead of overflowing every value.
 */
export function samplingDistribution(logits: ArrayLike<number>, options: SamplingOptions): Candidates {
  const temperature = options.temperature > 0 ? options.temperature : 1;
  const k = options.topK > 0 ? Math.min(options.topK, logits.length) : logits.length;
  const ids = topKIndices(logits, k);
  const max = ids.length > 0 ? logits[ids[0]!]! : 0;
  const scaled = ids.map((id) => (logits[id]! - max) / temperature);
  const lse = logSumExp(scaled);
  let probs = scaled.map((x) => Math.exp(x - lse));
  if (options.topP < 1) {
    let mass = 0;
    let keep = 0;
    while (keep < probs.length && mass < options.topP) mass += probs[keep++]!;
    ids.length = Math.max(keep, 1);
    probs = probs.slice(0, ids.length);
    const total = probs.reduce((a, b) => a + b, 0);
    probs = probs.map((p) => p / total);
  }
  return { ids, probs };
}

/**
 * The next token: argmax when not sampling (temperature 0 or below MIN_TEMPERATURE), else a draw from
 * `samplingDistribution`; argmax too when that distribution is not finite (an infinite logit).
 */
export function chooseToken(logits: ArrayLike<number>, options: SamplingOptions, random: () => number): number {
  if (!isSampling(options)) return argmax(logits);
  const { ids, probs } = samplingDistribution(logits, options);
  if (!probs.every(Number.isFinite)) return argmax(logits);
  let r = random();
  for (let i = 0; i < ids.length; i++) {
    r -= probs[i]!;
    if (r < 0) return ids[i]!;
  }
  return ids[ids.length - 1]!; // rounding left a sliver: the least likely kept token
}
