/**
 * Sense vectors on disk, per contextual model: `<id>.senses.json` (manifest) + `<id>.senses.bin`:
 *   projection means float32 [layers, dim] | basis float32 [k, dim]
 *   sense centroids int8 [synsets, layers, k] | their scales float32 [synsets, layers]
 *   anchors (optional) int8 [words, layers, k] | scales float32 [words, layers]
 * A centroid is the mean of the projected vectors of a synset's example sentences (train split); an anchor is
 * the mean projected vector of a vocabulary word over its occurrences in WordNet's example sentences.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { modelCorrupt } from '../errors';
import { PromiseCache } from '../promiseCache';
import { project, type Projection } from './pca';
import { cosine, nearestRows, normalized, quantizeInt8 } from './vectorMath';

export const STORE_FORMAT = 1;

export interface StoreManifest {
  format: number;
  model: string;
  modelType: string;
  /** A fingerprint of the model file the vectors came from (size + mtime), to notice a changed model. */
  fingerprint: string;
  layers: string[];
  dim: number;
  k: number;
  explained: number;
  synsets: string[];
  /** Train examples behind each centroid. */
  counts: number[];
  anchors: string[];
  sections: Record<'means' | 'basis' | 'senses' | 'senseScales' | 'anchors' | 'anchorScales', [number, number]>;
  created: string;
  examples: number;
}

/** Rows of vectors per key, per layer (float32 k-dim), before quantisation. */
export type LayeredRows = Map<string, Float32Array[]>;

export class SenseStore {
  private readonly synsetRow = new Map<string, number>();
  private readonly anchorRow = new Map<string, number>();

  constructor(
    readonly manifest: StoreManifest,
    readonly projection: Projection,
    private readonly senses: Int8Array,
    private readonly senseScales: Float32Array,
    private readonly anchorVectors: Int8Array,
    private readonly anchorScales: Float32Array,
  ) {
    manifest.synsets.forEach((s, i) => this.synsetRow.set(s, i));
    manifest.anchors.forEach((w, i) => this.anchorRow.set(w, i));
  }

  get layers(): string[] {
    return this.manifest.layers;
  }

  hasSynset(id: string): boolean {
    return this.synsetRow.has(id);
  }

  /** The layer index of `name`, or -1. */
  layerIndex(name: string): number {
    return this.manifest.layers.indexOf(name);
  }

  /** The query vector of each layer, projected like the stored ones. */
  projectLayers(vectors: readonly ArrayLike<number>[]): Float32Array[] {
    return vectors.map((v, l) => project(this.projection, l, v));
  }

  /** The stored centroid of `synset` in `layer` (dequantised), or undefined. */
  centroid(synset: string, layer: number): Float32Array | undefined {
    const row = this.synsetRow.get(synset);
    return row === undefined ? undefined : this.dequantize(this.senses, this.senseScales, row, layer);
  }

  /** Cosine of each projected query layer to the synset's centroid in that layer; undefined without a centroid. */
  cosines(synset: string, projected: readonly Float32Array[]): number[] | undefined {
    const row = this.synsetRow.get(synset);
    if (row === undefined) return undefined;
    return projected.map((q, l) => cosine(q, this.dequantize(this.senses, this.senseScales, row, l)));
  }

  examplesOf(synset: string): number {
    const row = this.synsetRow.get(synset);
    return row === undefined ? 0 : this.manifest.counts[row]!;
  }

  /** The anchor (mean contextual vector) of `word` in `layer`, or undefined. */
  anchor(word: string, layer: number): Float32Array | undefined {
    const row = this.anchorRow.get(word);
    return row === undefined ? undefined : this.dequantize(this.anchorVectors, this.anchorScales, row, layer);
  }

  /**
   * The `n` anchor words nearest to a projected query in `layer`. Runs on every hover for every layer, so each
   * layer's anchors are kept once as unit-length float32 rows (a few MB) for `nearestRows`.
   */
  nearestAnchors(projected: Float32Array, layer: number, n: number, exclude: ReadonlySet<string> = new Set()): { word: string; cosine: number }[] {
    const rows = (this.unitAnchors[layer] ??= this.unitRows(layer));
    return nearestRows(rows, this.manifest.k, normalized(projected), this.manifest.anchors, n, (word) => exclude.has(word));
  }

  private readonly unitAnchors: Float32Array[] = [];

  /** Every anchor's row in `layer` scaled to unit length ([words, k]; a zero row stays zero: cosine 0). */
  private unitRows(layer: number): Float32Array {
    const { k } = this.manifest;
    const L = this.manifest.layers.length;
    const words = this.manifest.anchors.length;
    const out = new Float32Array(words * k);
    for (let row = 0; row < words; row++) {
      const at = (row * L + layer) * k;
      let sum = 0;
      for (let j = 0; j < k; j++) sum += this.anchorVectors[at + j]! ** 2;
      const inv = sum > 0 ? 1 / Math.sqrt(sum) : 0;
      for (let j = 0; j < k; j++) out[row * k + j] = this.anchorVectors[at + j]! * inv;
    }
    return out;
  }

  private dequantize(data: Int8Array, scales: Float32Array, row: number, layer: number): Float32Array {
    const { k } = this.manifest;
    const L = this.manifest.layers.length;
    const at = (row * L + layer) * k;
    const scale = scales[row * L + layer]!;
    const out = new Float32Array(k);
    for (let j = 0; j < k; j++) out[j] = data[at + j]! * scale;
    return out;
  }
}

export const storeFiles = (dir: string, model: string): { manifest: string; bin: string } => ({
  manifest: path.join(dir, `${model}.senses.json`),
  bin: path.join(dir, `${model}.senses.bin`),
});

/** Writes a store (atomically: temporary files renamed into place). */
export async function writeStore(
  dir: string,
  info: Pick<StoreManifest, 'model' | 'modelType' | 'fingerprint' | 'layers' | 'examples'>,
  projection: Projection,
  senses: LayeredRows,
  counts: ReadonlyMap<string, number>,
  anchors: LayeredRows = new Map(),
): Promise<StoreManifest> {
  const L = info.layers.length;
  const { k, dim } = projection;
  const synsets = [...senses.keys()].sort();
  const words = [...anchors.keys()];
  const parts: Uint8Array[] = [];
  let size = 0;
  const push = (bytes: Uint8Array): [number, number] => {
    const at = size;
    const pad = (4 - (bytes.byteLength % 4)) % 4;
    parts.push(bytes, new Uint8Array(pad));
    size += bytes.byteLength + pad;
    return [at, bytes.byteLength];
  };
  const f32 = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const means = new Float32Array(L * dim);
  projection.means.forEach((m, l) => means.set(m, l * dim));
  const quantize = (keys: string[], rows: LayeredRows): { q: Int8Array; s: Float32Array } => {
    const q = new Int8Array(keys.length * L * k);
    const s = new Float32Array(keys.length * L);
    keys.forEach((key, i) => rows.get(key)!.forEach((v, l) => (s[i * L + l] = quantizeInt8(v, q, (i * L + l) * k))));
    return { q, s };
  };
  const sq = quantize(synsets, senses);
  const aq = quantize(words, anchors);
  const sections = {
    means: push(f32(means)),
    basis: push(f32(projection.basis)),
    senses: push(new Uint8Array(sq.q.buffer)),
    senseScales: push(f32(sq.s)),
    anchors: push(new Uint8Array(aq.q.buffer)),
    anchorScales: push(f32(aq.s)),
  };
  const manifest: StoreManifest = {
    format: STORE_FORMAT,
    ...info,
    dim,
    k,
    explained: Math.round(projection.explained * 1e4) / 1e4,
    synsets,
    counts: synsets.map((s) => counts.get(s) ?? 0),
    anchors: words,
    sections,
    created: new Date().toISOString(),
  };
  await mkdir(dir, { recursive: true });
  const files = storeFiles(dir, info.model);
  const bin = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    bin.set(part, at);
    at += part.byteLength;
  }
  await writeFile(files.bin + '.tmp', bin);
  await writeFile(files.manifest + '.tmp', JSON.stringify(manifest));
  await rename(files.bin + '.tmp', files.bin);
  await rename(files.manifest + '.tmp', files.manifest);
  return manifest;
}

const stores = new PromiseCache<string, SenseStore | undefined>();

/** The store of `model` in `dir` (memoised), or undefined when there is none. */
export function loadStore(dir: string, model: string): Promise<SenseStore | undefined> {
  return stores.get(path.join(path.resolve(dir), model), async () => {
    const files = storeFiles(dir, model);
    let manifestText: string;
    try {
      manifestText = await readFile(files.manifest, 'utf8');
    } catch {
      return undefined;
    }
    try {
      const manifest = JSON.parse(manifestText) as StoreManifest;
      if (manifest.format !== STORE_FORMAT) return undefined;
      const buffer = await readFile(files.bin);
      const bytes = new Uint8Array(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength));
      const view = (name: keyof StoreManifest['sections']): Uint8Array => {
        const [at, length] = manifest.sections[name];
        return bytes.subarray(at, at + length);
      };
      const f32 = (u: Uint8Array): Float32Array => new Float32Array(u.buffer, u.byteOffset, u.byteLength / 4);
      const i8 = (u: Uint8Array): Int8Array => new Int8Array(u.buffer, u.byteOffset, u.byteLength);
      const L = manifest.layers.length;
      const meansFlat = f32(view('means'));
      const projection: Projection = {
        dim: manifest.dim,
        k: manifest.k,
        explained: manifest.explained,
        means: Array.from({ length: L }, (_, l) => meansFlat.subarray(l * manifest.dim, (l + 1) * manifest.dim)),
        basis: f32(view('basis')),
      };
      return new SenseStore(manifest, projection, i8(view('senses')), f32(view('senseScales')), i8(view('anchors')), f32(view('anchorScales')));
    } catch (error) {
      throw modelCorrupt(`${files.manifest}: the sense vectors could not be read.`, error);
    }
  });
}

/** Forgets a loaded store (after it was rebuilt). */
export function forgetStore(dir: string, model: string): void {
  stores.delete(path.join(path.resolve(dir), model));
}
