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

/** One training case: every candidate's features, and which candidate is right. */
export interface TrainingCase {
  rows: number[][];
  gold: number;
}

export interface FitOptions {
  /** Only these features get a weight (the others stay 0). Default: all. */
  use?: readonly FeatureName[];
  iterations?: number;
  learningRate?: number;
  l2?: number;
}

/** Fits the weights; returns them with the final mean negative log-likelihood. */
export function fit(cases: readonly TrainingCase[], options: FitOptions = {}): ScorerWeights & { loss: number } {
  const n = FEATURES.length;
  const use = new Set(options.use ?? FEATURES);
  const active = FEATURES.map((f) => use.has(f));
  const iterations = options.iterations ?? 600;
  const lr = options.learningRate ?? 0.5;
  const l2 = options.l2 ?? 1e-4;
  const w = new Float64Array(n);
  const grad = new Float64Array(n);
  let loss = 0;
  const usable = cases.filter((c) => c.rows.length > 1);
  for (let it = 0; it < iterations; it++) {
    grad.fill(0);
    loss = 0;
    for (const c of usable) {
      const z = c.rows.map((x) => {
        let s = 0;
        for (let i = 0; i < n; i++) if (active[i]) s += w[i]! * x[i]!;
        return s;
      });
      const p = softmax(z);
      loss -= Math.log(Math.max(p[c.gold]!, 1e-12));
      c.rows.forEach((x, k) => {
        const r = p[k]! - (k === c.gold ? 1 : 0);
        if (r !== 0) for (let i = 0; i < n; i++) grad[i]! += r * x[i]!;
      });
    }
    const m = Math.max(1, usable.length);
    for (let i = 0; i < n; i++) {
      if (!active[i]) continue;
      w[i]! -= lr * (grad[i]! / m + l2 * w[i]!);
    }
    loss /= m;
  }
  return { features: FEATURES, weights: Array.from(w, (v) => Math.round(v * 1e5) / 1e5), loss };
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
