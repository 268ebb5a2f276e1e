/**
 * The numbers behind the Layers panel, for N occurrences of a word with one vector per layer each: cosine
 * similarities, a 2-D PCA projection, and (when no sense engine names the senses) clusters of the top layer's
 * vectors. Pure and small (N is at most a few dozen): no `vscode` import.
 */

export type Vector = readonly number[];

export function cosine(a: Vector, b: Vector): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** N x N cosine similarities, row-major. */
export function cosineMatrix(vectors: readonly Vector[]): number[] {
  const n = vectors.length;
  const out = new Array<number>(n * n).fill(0);
  for (let i = 0; i < n; i++) {
    out[i * n + i] = vectors[i]!.some((x) => x !== 0) ? 1 : 0;
    for (let j = i + 1; j < n; j++) {
      const c = cosine(vectors[i]!, vectors[j]!);
      out[i * n + j] = c;
      out[j * n + i] = c;
    }
  }
  return out;
}

export interface Projection {
  points: [number, number][];
  /** Share of the total variance along each axis. */
  explained: [number, number];
}

/**
 * PCA to two dimensions through the N x N Gram matrix of the centred vectors (N is small, the dimension may not
 * be): its top eigenvectors u, scaled by sqrt(eigenvalue), are the coordinates. Signs are fixed so the first
 * point has non-negative coordinates (the same data always gives the same picture).
 */
export function pca2(vectors: readonly Vector[]): Projection {
  const n = vectors.length;
  if (n === 0) return { points: [], explained: [0, 0] };
  const dim = vectors[0]!.length;
  const mean = new Float64Array(dim);
  for (const v of vectors) for (let d = 0; d < dim; d++) mean[d]! += v[d]! / n;
  const centred = vectors.map((v) => Float64Array.from({ length: dim }, (_, d) => v[d]! - mean[d]!));
  const gram = Array.from({ length: n }, (_, i) =>
    Float64Array.from({ length: n }, (_, j) => {
      let s = 0;
      for (let d = 0; d < dim; d++) s += centred[i]![d]! * centred[j]![d]!;
      return s;
    }),
  );
  let trace = 0;
  for (let i = 0; i < n; i++) trace += gram[i]![i]!;
  const axes: { value: number; vector: Float64Array }[] = [];
  for (let component = 0; component < 2; component++) {
    const { value, vector } = topEigen(gram, axes);
    axes.push({ value, vector });
  }
  const points = Array.from({ length: n }, (_, i) => axes.map((a) => a.vector[i]! * Math.sqrt(Math.max(a.value, 0))) as [number, number]);
  for (let c = 0; c < 2; c++) {
    const anchor = points.find((p) => Math.abs(p[c]!) > 1e-12);
    if (anchor && anchor[c]! < 0) for (const p of points) p[c] = -p[c]!;
  }
  const explained: [number, number] = trace > 0 ? [axes[0]!.value / trace, axes[1]!.value / trace] : [0, 0];
  return { points, explained };
}

/** Largest eigenpair of a symmetric matrix, orthogonal to `found` (power iteration with deflation). */
function topEigen(matrix: Float64Array[], found: readonly { value: number; vector: Float64Array }[]): { value: number; vector: Float64Array } {
  const n = matrix.length;
  let v = Float64Array.from({ length: n }, (_, i) => 1 + i / n); // deterministic start
  let value = 0;
  for (let iteration = 0; iteration < 300; iteration++) {
    for (const f of found) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += v[i]! * f.vector[i]!;
      for (let i = 0; i < n; i++) v[i]! -= dot * f.vector[i]!;
    }
    const next = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += matrix[i]![j]! * v[j]!;
      next[i] = s;
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += next[i]! * next[i]!;
    norm = Math.sqrt(norm);
    if (norm < 1e-12) return { value: 0, vector: new Float64Array(n) };
    let change = 0;
    for (let i = 0; i < n; i++) {
      const x = next[i]! / norm;
      change += Math.abs(x - v[i]!);
      next[i] = x;
    }
    v = next;
    value = norm;
    if (change < 1e-10) break;
  }
  return { value, vector: v };
}

/**
 * Groups of occurrences by their vectors: spherical k-means (cosine) for k = 2..4, seeded deterministically by
 * farthest points, keeping the k with the best silhouette. One group when N < 3 or nothing separates
 * (silhouette below `minSilhouette`).
 */
export function clusterGroups(vectors: readonly Vector[], minSilhouette = 0.1, minDistance = 0.02): number[] {
  const n = vectors.length;
  if (n < 3) return new Array<number>(n).fill(0);
  let best: { groups: number[]; score: number } = { groups: new Array<number>(n).fill(0), score: minSilhouette };
  for (let k = 2; k <= Math.min(4, n - 1); k++) {
    const groups = kMeans(vectors, k);
    // silhouettes do not see scale: clusters must also be apart in absolute terms
    if (meanDistanceBetweenGroups(vectors, groups) < minDistance) continue;
    const score = silhouette(vectors, groups);
    if (score > best.score + 1e-9) best = { groups, score };
  }
  return relabelInOrder(best.groups);
}

function unit(v: Vector): number[] {
  const norm = Math.hypot(...v);
  return norm === 0 ? v.map(() => 0) : v.map((x) => x / norm);
}

function kMeans(raw: readonly Vector[], k: number): number[] {
  const vectors = raw.map(unit);
  const n = vectors.length;
  const distance = (a: Vector, b: Vector) => 1 - cosine(a, b);
  const seeds = [0];
  while (seeds.length < k) {
    let far = 0;
    let farDistance = -1;
    for (let i = 0; i < n; i++) {
      const d = Math.min(...seeds.map((s) => distance(vectors[i]!, vectors[s]!)));
      if (d > farDistance) {
        far = i;
        farDistance = d;
      }
    }
    seeds.push(far);
  }
  let centres: Vector[] = seeds.map((s) => vectors[s]!);
  let groups = new Array<number>(n).fill(0);
  for (let iteration = 0; iteration < 50; iteration++) {
    const next = vectors.map((v) => {
      let g = 0;
      for (let c = 1; c < k; c++) if (distance(v, centres[c]!) < distance(v, centres[g]!)) g = c;
      return g;
    });
    const same = next.every((g, i) => g === groups[i]);
    groups = next;
    centres = centres.map((old, c) => {
      const members = vectors.filter((_, i) => groups[i] === c);
      if (members.length === 0) return old;
      const dim = members[0]!.length;
      return Array.from({ length: dim }, (_, d) => members.reduce((s, m) => s + m[d]!, 0));
    });
    if (same && iteration > 0) break;
  }
  return groups;
}

/** Mean cosine distance between members of different groups. */
function meanDistanceBetweenGroups(vectors: readonly Vector[], groups: readonly number[]): number {
  let total = 0;
  let count = 0;
  for (let i = 0; i < vectors.length; i++) {
    for (let j = i + 1; j < vectors.length; j++) {
      if (groups[i] === groups[j]) continue;
      total += 1 - cosine(vectors[i]!, vectors[j]!);
      count++;
    }
  }
  return count === 0 ? 0 : total / count;
}

/** Mean silhouette (cosine distance) of a grouping. */
export function silhouette(vectors: readonly Vector[], groups: readonly number[]): number {
  const n = vectors.length;
  const labels = [...new Set(groups)];
  if (labels.length < 2) return 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const mean = (g: number) => {
      const others = vectors.filter((_, j) => j !== i && groups[j] === g);
      return others.length === 0 ? 0 : others.reduce((s, v) => s + 1 - cosine(vectors[i]!, v), 0) / others.length;
    };
    const own = groups.filter((g, j) => j !== i && g === groups[i]).length === 0 ? undefined : mean(groups[i]!);
    if (own === undefined) continue; // a singleton scores 0
    const nearest = Math.min(...labels.filter((g) => g !== groups[i]).map(mean));
    const denominator = Math.max(own, nearest);
    total += denominator === 0 ? 0 : (nearest - own) / denominator;
  }
  return total / n;
}

/** Renumbers groups 0, 1, 2 in order of first appearance. */
function relabelInOrder(groups: readonly number[]): number[] {
  const map = new Map<number, number>();
  return groups.map((g) => {
    if (!map.has(g)) map.set(g, map.size);
    return map.get(g)!;
  });
}
