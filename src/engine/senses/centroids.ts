/**
 * From contextual vectors of example sentences to stored sense vectors: unit-normalise each layer's vector,
 * fit one projection per model (pooled over its layers), project, and average per synset (or per word, for
 * anchors). Shared by the offline build (training/senses/build.mjs) and the background build for user models.
 */
import { fitProjection, project, type Projection } from './pca';
import type { LayeredRows } from './store';

/** Projected dimensions kept per layer (keeps the shipped centroids of two models under ~12 MB). */
export const PROJECTED_DIMS = 96;

/** Fits the projection on the vectors `data` [count, layers, dim] (rows need not be unit length). */
export function fitModelProjection(data: Float32Array, count: number, layers: number, dim: number, k = PROJECTED_DIMS): Projection {
  const rows: Float32Array[] = [];
  const layerOf: number[] = [];
  for (let i = 0; i < count; i++) {
    for (let l = 0; l < layers; l++) {
      const from = (i * layers + l) * dim;
      const v = Float32Array.from(data.subarray(from, from + dim));
      let n = 0;
      for (let d = 0; d < dim; d++) n += v[d]! * v[d]!;
      n = Math.sqrt(n) || 1;
      for (let d = 0; d < dim; d++) v[d]! /= n;
      rows.push(v);
      layerOf.push(l);
    }
  }
  return fitProjection(rows, layerOf, layers, dim, k);
}

/** Projects every row of `data` [count, layers, dim] -> [count, layers, k]. */
export function projectAll(p: Projection, data: Float32Array, count: number, layers: number): Float32Array {
  const out = new Float32Array(count * layers * p.k);
  for (let i = 0; i < count; i++) {
    for (let l = 0; l < layers; l++) {
      const from = (i * layers + l) * p.dim;
      project(p, l, data.subarray(from, from + p.dim), out.subarray((i * layers + l) * p.k, (i * layers + l + 1) * p.k));
    }
  }
  return out;
}

/** Per-key sums of projected rows (for means, and leave-one-out means: (sum - own) / (n - 1)). */
export class KeyedSums {
  readonly sums = new Map<string, Float32Array[]>();
  readonly counts = new Map<string, number>();

  constructor(
    readonly layers: number,
    readonly k: number,
  ) {}

  add(key: string, projected: Float32Array, row: number): void {
    let sum = this.sums.get(key);
    if (!sum) this.sums.set(key, (sum = Array.from({ length: this.layers }, () => new Float32Array(this.k))));
    for (let l = 0; l < this.layers; l++) {
      const at = (row * this.layers + l) * this.k;
      const s = sum[l]!;
      for (let j = 0; j < this.k; j++) s[j]! += projected[at + j]!;
    }
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** The means, per key and layer. */
  means(minCount = 1): LayeredRows {
    const out: LayeredRows = new Map();
    for (const [key, sum] of this.sums) {
      const n = this.counts.get(key)!;
      if (n < minCount) continue;
      out.set(key, sum.map((s) => s.map((v) => v / n)));
    }
    return out;
  }

  /**
   * The mean of `key` in `layer` without row `row` of `projected` (which must have been added); undefined when
   * that row was the only one.
   */
  meanWithout(key: string, layer: number, projected: Float32Array, row: number): Float32Array | undefined {
    const n = this.counts.get(key) ?? 0;
    const sum = this.sums.get(key)?.[layer];
    if (!sum || n < 2) return undefined;
    const at = (row * this.layers + layer) * this.k;
    const out = new Float32Array(this.k);
    for (let j = 0; j < this.k; j++) out[j] = (sum[j]! - projected[at + j]!) / (n - 1);
    return out;
  }

  mean(key: string, layer: number): Float32Array | undefined {
    const n = this.counts.get(key) ?? 0;
    const sum = this.sums.get(key)?.[layer];
    return sum && n > 0 ? sum.map((v) => v / n) : undefined;
  }
}

