/**
 * Choosing the next token from a row of logits: greedy (argmax) or sampled with temperature, top-k, top-p
 * (nucleus) and min-p, from a seeded PRNG so that a seed reproduces a completion exactly. Pure functions on
 * typed arrays: no model, no ONNX Runtime.
 */

export interface SamplingOptions {
  /** 0 (or below MIN_TEMPERATURE) means greedy (argmax); otherwise logits are divided by it before the softmax. */
  temperature: number;
  /** Keep only the k most likely tokens (0 = no limit). */
  topK: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (1 = no limit). */
  topP: number;
  /**
   * Keep only tokens at least this fraction as likely as the most likely one, after the temperature (0 or absent =
   * no limit). Min-p sampling (Nguyen et al. 2024, transformers' `min_p`): the cut follows the model's confidence,
   * close where one token dominates and wide where many are plausible.
   */
  minP?: number;
}

export const GREEDY: SamplingOptions = { temperature: 0, topK: 0, topP: 1 };

/** Whether `options` cut by min-p at all. */
const cutsMinP = (options: SamplingOptions): boolean => (options.minP ?? 0) > 0;

/**
 * The most likely prefix of `ids` (sorted most likely first, `weights` theirs) whose weights reach `minP` times the
 * first's: every cut here keeps a prefix of the same order, so min-p after top-k and top-p is their intersection.
 */
function minPPrefix(ids: number[], weights: number[], minP: number): { ids: number[]; weights: number[] } {
  if (!(minP > 0) || ids.length === 0) return { ids, weights };
  const floor = minP * weights[0]!;
  let n = 1;
  while (n < ids.length && weights[n]! >= floor) n++;
  return { ids: ids.slice(0, n), weights: weights.slice(0, n) };
}

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

/**
 * The repetition penalty of CTRL (Keskar et al. 2019), as Hugging Face's and transformers.js's
 * RepetitionPenaltyLogitsProcessor apply it: each token already in the text has its logit divided by `penalty`
 * when positive and multiplied by it when negative (once per token, however often it occurred). In place;
 * `penalty` 1 changes nothing. Small models decoded greedily fall into loops ("the same time of the same time");
 * 1.2 is the paper's suggestion.
 */
export function penalizeRepeats(logits: Float32Array, seen: Iterable<number>, penalty: number): void {
  if (penalty === 1) return;
  for (const id of seen instanceof Set ? seen : new Set(seen)) {
    if (id < 0 || id >= logits.length) continue;
    const v = logits[id]!;
    logits[id] = v < 0 ? v * penalty : v / penalty;
  }
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

/** Orders indices by value, largest first; ties by index (the order every selection here returns). */
const byValueThenIndex =
  (values: ArrayLike<number>) =>
  (a: number, b: number): number =>
    values[b]! - values[a]! || a - b;

/** The k-th largest of `xs` (1 <= k <= xs.length), rearranging `xs`: quickselect, O(n) on average, no full sort. */
function kthLargest(xs: Float64Array, k: number): number {
  let lo = 0;
  let hi = xs.length - 1;
  const target = k - 1; // position in descending order
  while (lo < hi) {
    const pivot = xs[(lo + hi) >>> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (xs[i]! > pivot) i++;
      while (xs[j]! < pivot) j--;
      if (i <= j) {
        const t = xs[i]!;
        xs[i++] = xs[j]!;
        xs[j--] = t;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return xs[target]!;
  }
  return xs[target]!;
}

/** The `k` largest entries of `values` as indices, largest first (ties: lower index first); NaN never counts. */
export function topKIndices(values: ArrayLike<number>, k: number, exclude?: ReadonlySet<number>): number[] {
  const n = Math.min(k, values.length);
  if (n <= 0) return [];
  if (n > 64) {
    // a partial selection: find the n-th largest value, keep what reaches it, sort only those
    const kept = new Float64Array(values.length);
    let count = 0;
    for (let i = 0; i < values.length; i++) if (!exclude?.has(i) && !Number.isNaN(values[i]!)) kept[count++] = values[i]!;
    if (count === 0) return [];
    const threshold = kthLargest(kept.subarray(0, count), Math.min(n, count));
    const picked: number[] = [];
    for (let i = 0; i < values.length; i++) if (values[i]! >= threshold && !exclude?.has(i)) picked.push(i);
    return picked.sort(byValueThenIndex(values)).slice(0, n);
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
 * exp((logit - max) / temperature) for every entry (0 for NaN and -Infinity), and their sum. Subtracting the
 * largest logit first means a small temperature sends the others to 0 instead of overflowing every value.
 */
function scaledWeights(logits: ArrayLike<number>, temperature: number): { weights: Float64Array; total: number } {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  const weights = new Float64Array(logits.length);
  let total = 0;
  for (let i = 0; i < logits.length; i++) {
    const w = Math.exp((logits[i]! - max) / temperature);
    if (w > 0) {
      weights[i] = w;
      total += w;
    }
  }
  return { weights, total };
}

/**
 * The heaviest entries, most likely first (by logit, ties by index), up to the first whose running sum of
 * `weights` reaches `mass` (`exceed`: passes it). Written by hand because no library selects a probability
 * mass: instead of sorting the whole vocabulary every token (50k entries for GPT-2), it sorts only the entries
 * above a threshold that falls 16-fold until they hold enough mass, usually a few hundred of them.
 */
function heaviestPrefix(logits: ArrayLike<number>, weights: Float64Array, mass: number, exceed: boolean): number[] {
  const reached = (sum: number): boolean => (exceed ? sum > mass : sum >= mass);
  let top = 0;
  for (let i = 0; i < weights.length; i++) if (weights[i]! > top) top = weights[i]!;
  let picked: number[] = [];
  for (let threshold = top; threshold > 0; threshold = threshold > 1e-300 ? threshold / 16 : 0) {
    picked = [];
    let sum = 0;
    for (let i = 0; i < weights.length; i++) {
      if (weights[i]! >= threshold) {
        picked.push(i);
        sum += weights[i]!;
      }
    }
    if (reached(sum)) break;
  }
  picked.sort(byValueThenIndex(logits));
  let sum = 0;
  for (let n = 0; n < picked.length; n++) {
    sum += weights[picked[n]!]!;
    if (reached(sum)) return picked.slice(0, n + 1);
  }
  return picked; // rounding: the whole positive-weight set
}

/** The candidates sampling draws from, as weights (unnormalised): the top k, then the nucleus, then min-p. */
function candidateWeights(logits: ArrayLike<number>, options: SamplingOptions): { ids: number[]; weights: number[] } {
  const temperature = options.temperature > 0 ? options.temperature : 1;
  const minP = options.minP ?? 0;
  if (options.topK > 0 && options.topK < logits.length) {
    const ids = topKIndices(logits, options.topK);
    const max = ids.length > 0 ? logits[ids[0]!]! : 0;
    let weights = ids.map((id) => Math.exp((logits[id]! - max) / temperature));
    const keep = ids.findIndex((_id, i) => weights[i] === 0 || Number.isNaN(weights[i]!)); // -Infinity logits
    if (keep > 0) ids.length = keep;
    weights = weights.slice(0, ids.length);
    if (options.topP >= 1) return minPPrefix(ids, weights, minP);
    const total = weights.reduce((a, b) => a + b, 0);
    let mass = 0;
    let n = 0;
    while (n < ids.length && mass < options.topP * total) mass += weights[n++]!;
    return minPPrefix(ids.slice(0, Math.max(n, 1)), weights.slice(0, Math.max(n, 1)), minP);
  }
  const { weights, total } = scaledWeights(logits, temperature);
  let ids: number[];
  if (options.topP < 1) ids = heaviestPrefix(logits, weights, options.topP * total, false);
  else if (minP > 0) {
    // the largest weight is exp(0) = 1: what reaches minP is the min-p set itself; sort only those
    ids = [];
    for (let i = 0; i < weights.length; i++) if (weights[i]! >= minP) ids.push(i);
    ids.sort(byValueThenIndex(logits));
    return { ids, weights: ids.map((id) => weights[id]!) };
  } else ids = topKIndices(logits, logits.length).filter((id) => weights[id]! > 0);
  return minPPrefix(ids, ids.map((id) => weights[id]!), minP);
}

/**
 * The distribution sampling draws from: logits / temperature, cut to the top k, softmaxed, then cut to
 * the nucleus (smallest prefix whose mass reaches top-p) and to the tokens at least min-p times as likely as the
 * first, and renormalised. Sorted most likely first; tokens
 * of probability 0 (a -Infinity logit) are left out.
 */
export function samplingDistribution(logits: ArrayLike<number>, options: SamplingOptions): Candidates {
  const { ids, weights } = candidateWeights(logits, options);
  const total = weights.reduce((a, b) => a + b, 0);
  return { ids, probs: weights.map((w) => w / total) };
}

/**
 * The next token: argmax when not sampling (temperature 0 or below MIN_TEMPERATURE), else a draw from
 * `samplingDistribution` (walked most likely first); argmax too when that distribution is not finite (an
 * infinite logit). With none of top-k, top-p and min-p the draw sorts only the tokens ahead of where it lands.
 */
export function chooseToken(logits: ArrayLike<number>, options: SamplingOptions, random: () => number): number {
  if (!isSampling(options)) return argmax(logits);
  if (!(options.topK > 0 && options.topK < logits.length) && options.topP >= 1 && !cutsMinP(options)) {
    const { weights, total } = scaledWeights(logits, options.temperature);
    if (!Number.isFinite(total) || total <= 0) return argmax(logits);
    const prefix = heaviestPrefix(logits, weights, random() * total, true);
    return prefix[prefix.length - 1] ?? argmax(logits);
  }
  const { ids, weights } = candidateWeights(logits, options);
  const total = weights.reduce((a, b) => a + b, 0);
  if (ids.length === 0 || !Number.isFinite(total) || total <= 0) return argmax(logits);
  let r = random() * total;
  for (let i = 0; i < ids.length; i++) {
    r -= weights[i]!;
    if (r < 0) return ids[i]!;
  }
  return ids[ids.length - 1]!; // rounding left a sliver: the least likely kept token
}
