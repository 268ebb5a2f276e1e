/** Small dense-vector helpers for the sense signals (plain loops over typed arrays). */

export type Vec = Float32Array;

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) s += a[i]! * b[i]!;
  return s;
}

export function norm(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

/** Cosine similarity; 0 when either vector is zero. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const d = norm(a) * norm(b);
  return d === 0 ? 0 : dot(a, b) / d;
}

/** `a` scaled to unit length (a copy; zero stays zero). */
export function normalized(a: ArrayLike<number>): Vec {
  const out = Float32Array.from(a);
  const n = norm(out);
  if (n > 0) for (let i = 0; i < out.length; i++) out[i]! /= n;
  return out;
}

/**
 * The `n` rows of `rows` ([words.length, dim], row-major) with the largest dot product with `q`, best first, skipping
 * the words `skip` refuses: with unit rows and a unit query, the nearest words by cosine. The hover runs it over whole
 * vocabularies (static vectors, anchor words), so it keeps everything in locals and takes four products a step.
 */
export function nearestRows(
  rows: Float32Array,
  dim: number,
  q: Float32Array,
  words: readonly string[],
  n: number,
  skip: (word: string) => boolean,
): { word: string; cosine: number }[] {
  const best: { word: string; cosine: number }[] = [];
  let floor = -Infinity; // the n-th best so far
  const tail = dim - (dim % 4);
  for (let i = 0, at = 0; i < words.length; i++, at += dim) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let d = 0;
    for (; d < tail; d += 4) {
      s0 += q[d]! * rows[at + d]!;
      s1 += q[d + 1]! * rows[at + d + 1]!;
      s2 += q[d + 2]! * rows[at + d + 2]!;
      s3 += q[d + 3]! * rows[at + d + 3]!;
    }
    for (; d < dim; d++) s0 += q[d]! * rows[at + d]!;
    const s = s0 + s1 + s2 + s3;
    if (s <= floor || skip(words[i]!)) continue;
    best.push({ word: words[i]!, cosine: s });
    best.sort((a, b) => b.cosine - a.cosine);
    if (best.length > n) best.pop();
    if (best.length === n) floor = best[n - 1]!.cosine;
  }
  return best;
}

/** out += scale * a */
export function addScaled(out: Vec, a: ArrayLike<number>, scale = 1): Vec {
  for (let i = 0; i < out.length; i++) out[i]! += scale * a[i]!;
  return out;
}

/** IEEE half -> float. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float -> IEEE half (round to nearest even; overflow to infinity). */
export function floatToHalf(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >> 16) & 0x8000;
  const exp = ((x >> 23) & 0xff) - 127 + 15;
  let mant = x & 0x7fffff;
  if (((x >> 23) & 0xff) === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  if (exp >= 31) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - exp;
    let half = mant >> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && half & 1)) half++;
    return sign | half;
  }
  let half = sign | (exp << 10) | (mant >> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return half;
}

/** Every half's float value, index = its bits (256 KB, built on the first decode). */
let halfTable: Float32Array | undefined;

/**
 * Decodes little-endian float16 bytes into float32. A table lookup per value: GloVe's 4.1M halves took ~0.5 s of
 * the first hover through `halfToFloat` (profiled 2026-12-07), ~10 ms this way. Node 20 has no Float16Array.
 */
export function decodeFloat16(bytes: Uint8Array): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(0x10000);
    for (let h = 0; h < 0x10000; h++) halfTable[h] = halfToFloat(h);
  }
  const table = halfTable;
  const n = Math.floor(bytes.length / 2);
  const out = new Float32Array(n);
  for (let i = 0, at = 0; i < n; i++, at += 2) out[i] = table[bytes[at]! | (bytes[at + 1]! << 8)]!;
  return out;
}

/** Symmetric int8 quantisation of one vector: q = round(v / scale), scale = max|v| / 127. */
export function quantizeInt8(v: ArrayLike<number>, out: Int8Array, at: number): number {
  let max = 0;
  for (let i = 0; i < v.length; i++) max = Math.max(max, Math.abs(v[i]!));
  const scale = max > 0 ? max / 127 : 1;
  for (let i = 0; i < v.length; i++) out[at + i] = Math.max(-127, Math.min(127, Math.round(v[i]! / scale)));
  return scale;
}
