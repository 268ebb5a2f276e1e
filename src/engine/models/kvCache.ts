/**
 * Key/value cache layouts of causal LM exports, told apart by the graph's input and output names:
 *
 *   Optimum / transformers.js  past_key_values.{i}.key / .value -> present.{i}.key / .value,
 *                              [batch, kv_heads, past, head_dim]
 *   ONNX Runtime's GPT-2       past_{i} -> present_{i}, key and value stacked: [2, batch, heads, past, head_dim]
 *   (onnxruntime.transformers' gpt2 tools, its older test models)
 *
 * Pure functions on names; no ONNX Runtime here.
 */
import { modelCorrupt } from '../errors';

export interface CacheLayout {
  /** Which exporter's layout. */
  name: 'past_key_values' | 'past_i';
  /** The past inputs the graph declares, in layer order. */
  pastInputs: string[];
  /** past input -> present output; empty when the graph does not return every present (no reuse). */
  presents: Map<string, string>;
  /** The axis that holds the sequence length (2 for past_key_values, 3 for past_i). */
  sequenceAxis: number;
  /** The dims of an empty past for one sequence. */
  emptyDims(kvHeads: number, headDim: number): number[];
}

const KV = /^past_key_values\.(\d+)\.(key|value)$/;
const STACKED = /^past_(\d+)$/;

/** True for an input name of either cache layout. */
export function isPastInput(name: string): boolean {
  return KV.test(name) || STACKED.test(name);
}

export const NEW_KV_PREFIX = 'lm_lens_new.';

/** The output of a rewritten graph (onnx/kvAppend.ts) that holds only this step's keys or values for `past`. */
export function newKvOutput(past: string): string {
  return `${NEW_KV_PREFIX}${past}`;
}

function layerOf(name: string): number {
  return Number((KV.exec(name) ?? STACKED.exec(name))?.[1] ?? 0);
}

/**
 * The cache layout of a graph from its past inputs (`names`, other inputs are ignored) and its outputs; undefined
 * when it has no past input. MODEL_CORRUPT when the past inputs mix the two layouts.
 */
export function cacheLayoutOf(names: readonly string[], outputNames: readonly string[], modelId: string): CacheLayout | undefined {
  const kv = names.filter((n) => KV.test(n));
  const stacked = names.filter((n) => STACKED.test(n));
  if (kv.length > 0 && stacked.length > 0) {
    throw modelCorrupt(`Model "${modelId}" mixes two key/value cache layouts (${kv[0]} and ${stacked[0]}).`);
  }
  if (kv.length === 0 && stacked.length === 0) return undefined;
  const outputs = new Set(outputNames);
  const isKv = kv.length > 0;
  const pastInputs = (isKv ? kv : stacked).slice().sort((a, b) => layerOf(a) - layerOf(b) || a.localeCompare(b));
  const presentOf = (past: string): string => (isKv ? past.replace(/^past_key_values\./, 'present.') : past.replace(/^past_/, 'present_'));
  const presents = new Map<string, string>();
  if (pastInputs.every((p) => outputs.has(presentOf(p)))) pastInputs.forEach((p) => presents.set(p, presentOf(p)));
  return isKv
    ? { name: 'past_key_values', pastInputs, presents, sequenceAxis: 2, emptyDims: (h, d) => [1, h, 0, d] }
    : { name: 'past_i', pastInputs, presents, sequenceAxis: 3, emptyDims: (h, d) => [2, 1, h, 0, d] };
}
