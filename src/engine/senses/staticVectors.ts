/**
 * Static word vectors (GloVe, word2vec, NNLM): config.json + vocab.txt (one word a line) + vectors.bin
 * (float16 little-endian [vocab, dim], rows L2-normalised). Loaded once per folder (memoised as a promise) and kept
 * as float16: rows are read through the half table, one at a time (`vector`) or all in a scan (`nearest`).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { modelCorrupt } from '../errors';
import { StampedCache } from '../fileStamp';
import { halfRows, halfTable, halvesToFloats, nearestRows, normalized, type Vec } from './vectorMath';

export class StaticVectors {
  private readonly index = new Map<string, number>();

  constructor(
    readonly words: readonly string[],
    /** [vocab, dim] row-major float16 bits, rows unit length. */
    readonly halves: Uint16Array,
    readonly dim: number,
  ) {
    words.forEach((w, i) => {
      if (!this.index.has(w)) this.index.set(w, i);
    });
  }

  has(word: string): boolean {
    return this.index.has(word) || this.index.has(word.toLowerCase());
  }

  /** The word's unit vector (exact, else lowercased; a copy), or undefined. */
  vector(word: string): Vec | undefined {
    const i = this.index.get(word) ?? this.index.get(word.toLowerCase());
    return i === undefined ? undefined : this.row(i);
  }

  /** Row `i` as float32 (a copy). */
  row(i: number): Vec {
    return halvesToFloats(this.halves.subarray(i * this.dim, (i + 1) * this.dim));
  }

  /** The unit-length mean of the vectors of the known words; undefined when none is known. */
  bag(words: Iterable<string>): Vec | undefined {
    const sum = new Float32Array(this.dim);
    const table = halfTable();
    let n = 0;
    for (const w of words) {
      const i = this.index.get(w) ?? this.index.get(w.toLowerCase());
      if (i === undefined) continue;
      for (let d = 0, at = i * this.dim; d < this.dim; d++) sum[d]! += table[this.halves[at + d]!]!; // no row copied
      n++;
    }
    return n === 0 ? undefined : normalized(sum);
  }

  private readonly neighboursOf = new Map<string, { word: string; cosine: number }[]>();

  /**
   * The `k` words nearest to `word`'s own vector (undefined when the word is unknown). Static neighbours never
   * change, so the last 512 answers are kept: hovering a word again costs no scan.
   */
  neighbours(word: string, k: number): { word: string; cosine: number }[] | undefined {
    const v = this.vector(word);
    if (!v) return undefined;
    const key = `${k} ${word}`;
    let found = this.neighboursOf.get(key);
    if (found) {
      this.neighboursOf.delete(key); // most recently used last
    } else {
      found = this.nearest(v, k, new Set([word]));
      if (this.neighboursOf.size >= 512) this.neighboursOf.delete(this.neighboursOf.keys().next().value!);
    }
    this.neighboursOf.set(key, found);
    return found.map((n) => ({ ...n }));
  }

  /**
   * The `k` words nearest to `query` by cosine, skipping `exclude`. A hover scans every static model's whole
   * vocabulary (15k to 41k words x 100 here) through `nearestRows`.
   */
  nearest(query: ArrayLike<number>, k: number, exclude: ReadonlySet<string> = new Set()): { word: string; cosine: number }[] {
    const q = Float32Array.from(normalized(query));
    return nearestRows(this.halves, this.dim, q, this.words, k, (word) => exclude.has(word) || !/\p{L}/u.test(word));
  }
}

const loaded = new StampedCache<StaticVectors>();

/** Loads a static-vectors model folder (memoised per folder until vectors.bin changes; a failed load is retried next time). */
export function loadStaticVectors(folder: string): Promise<StaticVectors> {
  const dir = path.resolve(folder);
  return loaded.get(dir, path.join(dir, 'vectors.bin'), async () => {
    const [vocabText, bytes] = await Promise.all([
      readFile(path.join(dir, 'vocab.txt'), 'utf8'),
      readFile(path.join(dir, 'vectors.bin')),
    ]).catch((error: unknown) => {
      throw modelCorrupt(`${dir}: vocab.txt or vectors.bin is missing or unreadable.`, error);
    });
    const words = vocabText.split('\n');
    while (words.length > 0 && words[words.length - 1] === '') words.pop();
    const halves = halfRows(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    const dim = words.length > 0 ? halves.length / words.length : 0;
    if (!Number.isInteger(dim) || dim <= 0 || bytes.byteLength % 2 !== 0) {
      throw modelCorrupt(`${dir}: vectors.bin's ${bytes.byteLength} bytes are not float16 rows for the ${words.length} words.`);
    }
    return new StaticVectors(words, halves, dim);
  });
}
