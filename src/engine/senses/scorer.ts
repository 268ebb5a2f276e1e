/**
 * A conditional-logit scorer: each candidate sense gets w . x (its features), and a softmax over the word's
 * candidates turns the scores into probabilities (the confidence the hover shows). Fitted by plain full-batch
 * gradient descent on the negative log-likelihood of the gold sense (+ a small L2 penalty).
 */
import { FEATURES, signalOf, type FeatureName, type SignalName } from './features';

export interface ScorerWeights {
  features: readonly FeatureName[];
  weights: readonly number[];
}

/** Used when media/senses/scorer.json is missing: the priors, then the contextual signals, by hand. */
export const DEFAULT_WEIGHTS: ScorerWeights = {
  features: FEATURES,
  weights: [0.5, 1, 2, 0, 1, 2, 0, 4, 1, 2, 0.3],
};

export function logits(model: ScorerWeights, rows: readonly (readonly number[])[]): number[] {
  return rows.map((x) => {
    let z = 0;
    for (let i = 0; i < model.weights.length; i++) z += model.weights[i]! * (x[i] ?? 0);
    return z;
  });
}

export function softmax(z: readonly number[]): number[] {
  if (z.length === 0) return [];
  const max = Math.max(...z);
  const e = z.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

export function probabilities(model: ScorerWeights, rows: readonly (readonly number[])[]): number[] {
  return softmax(logits(model, rows));
}

export function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** One training case: every candidate's features, which candidate is right, and how much it counts (default 1). */
export interface TrainingCase {
  rows: number[][];
  gold: number;
  /** Importance weight (>= 0), e.g. to correct for a training set whose senses are not as frequent as in text. */
  weight?: number;
}

export interface FitOptions {
  /** Only these features get a weight (the others stay 0). Default: all. */
  use?: readonly FeatureName[];
  iterations?: number;
  learningRate?: number;
  l2?: number;
}

/** Fits the weights; returns them with the final (weighted) mean negative log-likelihood. */
export function fit(cases: readonly TrainingCase[], options: FitOptions = {}): ScorerWeights & { loss: number } {
  const n = FEATURES.length;
  const use = new Set(options.use ?? FEATURES);
  const active = FEATURES.map((_, i) => i).filter((i) => use.has(FEATURES[i]!));
  const iterations = options.iterations ?? 600;
  const lr = options.learningRate ?? 0.5;
  const l2 = options.l2 ?? 1e-4;
  // flat layout: every candidate row of every case, the active features only
  const usable = cases.filter((c) => c.rows.length > 1);
  const starts = new Int32Array(usable.length + 1);
  usable.forEach((c, k) => (starts[k + 1] = starts[k]! + c.rows.length));
  const m = active.length;
  const x = new Float64Array(starts[usable.length]! * m);
  usable.forEach((c, k) => c.rows.forEach((row, r) => active.forEach((f, j) => (x[(starts[k]! + r) * m + j] = row[f] ?? 0))));
  const gold = Int32Array.from(usable, (c) => c.gold);
  const caseWeight = Float64Array.from(usable, (c) => c.weight ?? 1);
  const totalWeight = caseWeight.reduce((a, b) => a + b, 0);
  const w = new Float64Array(m);
  const grad = new Float64Array(m);
  const z = new Float64Array(Math.max(1, ...usable.map((c) => c.rows.length)));
  let loss = 0;
  for (let it = 0; it < iterations; it++) {
    grad.fill(0);
    loss = 0;
    for (let k = 0; k < usable.length; k++) {
      const from = starts[k]!;
      const count = starts[k + 1]! - from;
      let max = -Infinity;
      for (let r = 0; r < count; r++) {
        let s = 0;
        const at = (from + r) * m;
        for (let j = 0; j < m; j++) s += w[j]! * x[at + j]!;
        z[r] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let r = 0; r < count; r++) sum += (z[r] = Math.exp(z[r]! - max));
      const weight = caseWeight[k]!;
      loss -= weight * Math.log(Math.max(z[gold[k]!]! / sum, 1e-12));
      for (let r = 0; r < count; r++) {
        const residual = weight * (z[r]! / sum - (r === gold[k] ? 1 : 0));
        const at = (from + r) * m;
        for (let j = 0; j < m; j++) grad[j]! += residual * x[at + j]!;
      }
    }
    const cnt = totalWeight > 0 ? totalWeight : 1;
    for (let j = 0; j < m; j++) w[j]! -= lr * (grad[j]! / cnt + l2 * w[j]!);
    loss /= cnt;
  }
  const weights = new Array<number>(n).fill(0);
  active.forEach((f, j) => (weights[f] = Math.round(w[j]! * 1e5) / 1e5));
  return { features: FEATURES, weights, loss };
}

export interface Evidence {
  signal: SignalName;
  /** How much this signal raised the chosen sense's score above the candidates' average (logit units). */
  contribution: number;
}

/** Which signals decided: per signal, w . (x_chosen - mean over candidates), largest first. */
export function evidenceFor(model: ScorerWeights, rows: readonly (readonly number[])[], chosen: number): Evidence[] {
  const bySignal = new Map<SignalName, number>();
  model.features.forEach((feature, i) => {
    const mean = rows.reduce((s, x) => s + (x[i] ?? 0), 0) / Math.max(1, rows.length);
    const c = model.weights[i]! * ((rows[chosen]?.[i] ?? 0) - mean);
    const signal = signalOf(feature);
    bySignal.set(signal, (bySignal.get(signal) ?? 0) + c);
  });
  return [...bySignal]
    .map(([signal, contribution]) => ({ signal, contribution: Math.round(contribution * 1000) / 1000 }))
    .filter((e) => e.contribution !== 0)
    .sort((a, b) => b.contribution - a.contribution);
}

/** Reads scorer.json ({ features, weights }); undefined when it is not usable. */
export function parseWeights(json: unknown): ScorerWeights | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const { features, weights } = json as { features?: unknown; weights?: unknown };
  if (!Array.isArray(features) || !Array.isArray(weights) || features.length !== weights.length) return undefined;
  const byName = new Map<string, number>();
  features.forEach((f, i) => {
    if (typeof f === 'string' && typeof weights[i] === 'number') byName.set(f, weights[i] as number);
  });
  return { features: FEATURES, weights: FEATURES.map((f) => byName.get(f) ?? 0) };
}

/**
 * scorer.json as the build writes it: the shipped weights, the contextual models they were fitted and chosen with,
 * and (`allSignals`) the weights of the scorer with every signal, when the shipped one leaves some out.
 */
export interface ScorerFile {
  weights: ScorerWeights;
  allSignals?: ScorerWeights;
  models: { elmo?: string; bert?: string };
}

export function parseScorerFile(json: unknown): ScorerFile | undefined {
  const weights = parseWeights(json);
  if (!weights) return undefined;
  const { allSignals, fitted } = json as { allSignals?: unknown; fitted?: { elmo?: unknown; bert?: unknown } };
  const all = allSignals === undefined ? undefined : parseWeights(allSignals);
  const id = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  const elmo = id(fitted?.elmo);
  const bert = id(fitted?.bert);
  return { weights, ...(all ? { allSignals: all } : {}), models: { ...(elmo ? { elmo } : {}), ...(bert ? { bert } : {}) } };
}

/** True when some feature of `signal` has a weight: the scorer listens to it (else its model need not run). */
export function usesSignal(model: ScorerWeights, signal: SignalName): boolean {
  return model.features.some((feature, i) => model.weights[i] !== 0 && signalOf(feature) === signal);
}

