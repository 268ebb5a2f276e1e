/**
 * PCA for storing sense vectors compactly: the covariance of (unit-length, per-layer-centred) vectors, its
 * top eigenvectors by cyclic Jacobi rotations. One basis serves every layer of a model, so vectors of
 * different layers can still be mixed (a weighted sum of layers) after projection.
 */

/** Eigen-decomposition of a symmetric n x n matrix (row-major): eigenvalues descending, eigenvectors as rows. */
export function symmetricEigen(matrix: Float64Array, n: number, sweeps = 12): { values: number[]; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < sweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const app = a[p * n + p]!;
        const aqq = a[q * n + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[j * n + j]! - a[i * n + i]!);
  const vectors = new Float64Array(n * n);
  order.forEach((col, row) => {
    for (let k = 0; k < n; k++) vectors[row * n + k] = v[k * n + col]!;
  });
  return { values: order.map((i) => a[i * n + i]!), vectors };
}

export interface Projection {
  /** Input width. */
  dim: number;
  /** Output width. */
  k: number;
  /** Per layer: the mean of that layer's unit vectors [layers][dim]. */
  means: Float32Array[];
  /** [k, dim] row-major, rows orthonormal. */
  basis: Float32Array;
  /** Fraction of the variance kept. */
  explained: number;
}

/**
 * Fits a projection to `rows` (each a unit vector of layer `layerOf[i]`): centre per layer, pooled covariance,
 * top-k eigenvectors. At most `maxRows` rows are used (evenly spaced).
 */
export function fitProjection(
  rows: readonly Float32Array[],
  layerOf: readonly number[],
  layers: number,
  dim: number,
  k: number,
  maxRows = 24_000,
): Projection {
  const means = Array.from({ length: layers }, () => new Float32Array(dim));
  const counts = new Array<number>(layers).fill(0);
  rows.forEach((r, i) => {
    const m = means[layerOf[i]!]!;
    for (let d = 0; d < dim; d++) m[d]! += r[d]!;
    counts[layerOf[i]!]!++;
  });
  means.forEach((m, l) => {
    if (counts[l]! > 0) for (let d = 0; d < dim; d++) m[d]! /= counts[l]!;
  });
  const step = Math.max(1, Math.floor(rows.length / maxRows));
  const cov = new Float64Array(dim * dim);
  const x = new Float64Array(dim);
  let n = 0;
  for (let i = 0; i < rows.length; i += step) {
    const r = rows[i]!;
    const m = means[layerOf[i]!]!;
    for (let d = 0; d < dim; d++) x[d] = r[d]! - m[d]!;
    for (let p = 0; p < dim; p++) {
      const xp = x[p]!;
      if (xp === 0) continue;
      const row = p * dim;
      for (let q = p; q < dim; q++) cov[row + q]! += xp * x[q]!;
    }
    n++;
  }
  for (let p = 0; p < dim; p++) {
    for (let q = p; q < dim; q++) {
      cov[p * dim + q]! /= Math.max(1, n);
      cov[q * dim + p] = cov[p * dim + q]!;
    }
  }
  const kk = Math.min(k, dim);
  const { values, vectors } = symmetricEigen(cov, dim);
  const total = values.reduce((s, v) => s + Math.max(0, v), 0);
  const kept = values.slice(0, kk).reduce((s, v) => s + Math.max(0, v), 0);
  return { dim, k: kk, means, basis: Float32Array.from(vectors.subarray(0, kk * dim)), explained: total > 0 ? kept / total : 1 };
}

/** Projects a (not necessarily unit) vector of `layer`: normalise, centre, project. */
export function project(p: Projection, layer: number, vector: ArrayLike<number>, out = new Float32Array(p.k)): Float32Array {
  let n = 0;
  for (let d = 0; d < p.dim; d++) n += vector[d]! * vector[d]!;
  n = Math.sqrt(n) || 1;
  const m = p.means[layer]!;
  for (let j = 0; j < p.k; j++) {
    let s = 0;
    const row = j * p.dim;
    for (let d = 0; d < p.dim; d++) s += p.basis[row + d]! * (vector[d]! / n - m[d]!);
    out[j] = s;
  }
  return out;
}
