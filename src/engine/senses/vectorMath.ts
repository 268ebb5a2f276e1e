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
 * `rows` is float32, or float16 bits (`halfRows`) read through the half table: a scan of GloVe's 41k x 100 halves
 * takes as long as one of its float32 copy (half the bytes, one table load more a product; measured 2026-12-08).
 */
export function nearestRows(
  rows: Float32Array | Uint16Array,
  dim: number,
  q: Float32Array,
  words: readonly string[],
  n: number,
  skip: (word: string) => boolean,
): { word: string; cosine: number }[] {
  const best: { word: string; cosine: number }[] = [];
  let floor = -Infinity; // the n-th best so far
  const halves = rows instanceof Uint16Array ? rows : undefined;
  const floats = rows instanceof Float32Array ? rows : undefined;
  const table = halfTable();
  for (let i = 0, at = 0; i < words.length; i++, at += dim) {
    const s = halves ? dotHalves(halves, at, q, dim, table) : dotFloats(floats!, at, q, dim);
    if (s <= floor || skip(words[i]!)) continue;
    best.push({ word: words[i]!, cosine: s });
    best.sort((a, b) => b.cosine - a.cosine);
    if (best.length > n) best.pop();
    if (best.length === n) floor = best[n - 1]!.cosine;
  }
  return best;
}

/** The dot product of `q` with the float32 row at `at`, four products a step. */
function dotFloats(rows: Float32Array, at: number, q: Float32Array, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let d = 0;
  const tail = dim - (dim % 4);
  for (; d < tail; d += 4) {
    s0 += q[d]! * rows[at + d]!;
    s1 += q[d + 1]! * rows[at + d + 1]!;
    s2 += q[d + 2]! * rows[at + d + 2]!;
    s3 += q[d + 3]! * rows[at + d + 3]!;
  }
  for (; d < dim; d++) s0 += q[d]! * rows[at + d]!;
  return s0 + s1 + s2 + s3;
}

/**
 * `dotFloats` over float16 bits: each value read through the half table (exactly the float32 decode's value). Two
 * loops, not one over an accessor: the scan's inner loop stays monomorphic, as fast as it was for float32 alone.
 */
function dotHalves(rows: Uint16Array, at: number, q: Float32Array, dim: number, table: Float32Array): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let d = 0;
  const tail = dim - (dim % 4);
  for (; d < tail; d += 4) {
    s0 += q[d]! * table[rows[at + d]!]!;
    s1 += q[d + 1]! * table[rows[at + d + 1]!]!;
    s2 += q[d + 2]! * table[rows[at + d + 2]!]!;
    s3 += q[d + 3]! * table[rows[at + d + 3]!]!;
  }
  for (; d < dim; d++) s0 += q[d]! * table[rows[at + d]!]!;
  return s0 + s1 + s2 + s3;
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

/** Every half's float value, index = its bits (256 KB, built on first use). */
let halves: Float32Array | undefined;

export function halfTable(): Float32Array {
  if (!halves) {
    // by the bits, not halfToFloat (~30 ms of a first hover under load): a normal half's exponent rebiased by
    // 127 - 15 and its mantissa shifted up 13 places; subnormals (x 2^-24) and infinities / NaNs apart
    const table = new Float32Array(0x10000);
    const bits = new Uint32Array(table.buffer);
    for (let h = 0; h < 0x10000; h++) {
      const sign = (h & 0x8000) << 16;
      const exp = h & 0x7c00;
      if (exp === 0) table[h] = (sign ? -1 : 1) * (h & 0x3ff) * 2 ** -24;
      else if (exp === 0x7c00) bits[h] = sign | 0x7f800000 | ((h & 0x3ff) << 13);
      else bits[h] = sign | (((h & 0x7fff) + 0x1c000) << 13);
    }
    halves = table;
  }
  return halves;
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * Little-endian float16 bytes as their bits: a view of `bytes` where it can be one (an aligned view on a little-endian
 * machine), else a copy. Keeping static vectors as halves spares a float32 copy twice their size: on this project's
 * virtual machine the pages of that copy, written the first time, cost about 25 us each (~0.1 s for GloVe's 16 MB,
 * measured 2026-12-08), and the worker holds half the memory.
 */
export function halfRows(bytes: Uint8Array): Uint16Array {
  const n = Math.floor(bytes.length / 2);
  if (LITTLE_ENDIAN && bytes.byteOffset % 2 === 0) return new Uint16Array(bytes.buffer, bytes.byteOffset, n);
  const out = new Uint16Array(n);
  for (let i = 0, at = 0; i < n; i++, at += 2) out[i] = bytes[at]! | (bytes[at + 1]! << 8);
  return out;
}

/** Float16 bits as float32 values, a table lookup each (Node 20 has no Float16Array). */
export function halvesToFloats(bits: Uint16Array): Float32Array {
  const table = halfTable();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]!]!;
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
