/**
 * The model file to load when a caller wants attentions or hidden states (SessionOptions.expose): the
 * model's own graph when it already outputs them (our exports do), else a copy rewritten by
 * onnx/expose.ts to add `attentions.{i}` / `hidden_states.{i}` (plain Hugging Face / transformers.js
 * exports leave them out), cached under the sha256 of the source. Also the copy whose masked-LM head runs
 * at chosen positions only (SessionOptions.headGather, onnx/headGather.ts), and the causal LM that returns each
 * step's new keys / values (SessionOptions.kvAppend, onnx/kvAppend.ts), cached the same way.
 * Worker side; no ONNX Runtime here.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ModelInfo } from '../api';
import { badInput } from '../errors';
import { MANIFEST_FILE, readModelManifest } from '../hub/manifest';
import { ONNX_FILE } from '../modelStore';
import { NEW_KV_PREFIX } from '../models/kvCache';
import { exposeOutputsCached } from '../onnx/expose';
import type { SessionOptions } from './session';

/** Cache folder inside a downloaded model's folder (hidden from the model list; removed with the model). */
export const EXPOSE_CACHE_DIR = '.lm-lens-cache';

type Exposable = 'attentions' | 'hiddenStates';

const OUTPUT_NAMES: Readonly<Record<Exposable, { stacked: string; split: RegExp }>> = {
  attentions: { stacked: 'attentions', split: /^attentions\.\d+$/ },
  hiddenStates: { stacked: 'hidden_states', split: /^hidden_states\.\d+$/ },
};

const WHAT: Readonly<Record<Exposable, string>> = {
  attentions: 'attention weights',
  hiddenStates: 'hidden states',
};

/** True when the graph's outputs already hold `what` (stacked, or one output per layer). */
export function hasExposedOutputs(outputs: readonly string[], what: Exposable): boolean {
  const { stacked, split } = OUTPUT_NAMES[what];
  return outputs.includes(stacked) || outputs.some((name) => split.test(name));
}

/**
 * Where a model's rewritten graph is cached: inside the folder of a model LM Lens downloaded (Remove Model
 * frees it with the model), else in `cacheDir` (the extension's global storage, the CLI's user folder), else in the
 * system's temporary folder: an engine made without one (a script, a benchmark) must not write into the shipped
 * models' folders, which the package takes whole.
 */
export function exposeCacheDir(model: Pick<ModelInfo, 'path'>, cacheDir?: string): string {
  if (existsSync(path.join(model.path, MANIFEST_FILE))) return path.join(model.path, EXPOSE_CACHE_DIR);
  return cacheDir ?? path.join(os.tmpdir(), 'lm-lens-cache');
}

/**
 * The ONNX file that gives what `expose` asks for: `<model>/onnx/model.onnx` itself, or its rewritten copy.
 * BAD_INPUT, with the rewriter's explanation, when the graph cannot give it (fused attention, no layers found).
 */
export async function exposedModelFile(
  model: Pick<ModelInfo, 'id' | 'path' | 'outputs'>,
  expose: NonNullable<SessionOptions['expose']>,
  cacheDir?: string,
): Promise<string> {
  const file = path.join(model.path, ONNX_FILE);
  const wanted = (['attentions', 'hiddenStates'] as const).filter((what) => expose[what]);
  const missing = wanted.filter((what) => !hasExposedOutputs(model.outputs, what));
  if (missing.length === 0) return file;
  const { path: exposed, mapping } = await exposeOutputsCached(file, exposeCacheDir(model, cacheDir), {}, manifestSha256(model));
  for (const what of missing) {
    if (mapping[what].length === 0) {
      const why = mapping.explanations[what] ?? 'LM Lens could not find them in its graph.';
      throw badInput(`Model "${model.id}" does not expose its ${WHAT[what]}, and LM Lens cannot add them: ${why}`);
    }
  }
  return exposed;
}

/**
 * The ONNX file whose head runs at one position per row (SessionOptions.headGather): a rewritten copy, cached like the
 * exposed ones. BAD_INPUT, with the rewriter's explanation, when the graph cannot be rewritten.
 */
export async function headGatheredModelFile(
  model: Pick<ModelInfo, 'id' | 'path'>,
  logits: string,
  cacheDir?: string,
): Promise<string> {
  const file = path.join(model.path, ONNX_FILE);
  const { path: rewritten, mapping } = await exposeOutputsCached(file, exposeCacheDir(model, cacheDir), { headGather: logits }, manifestSha256(model));
  if (!mapping.headGather) {
    throw badInput(`Model "${model.id}": its head cannot run at chosen positions only: ${mapping.explanations.headGather ?? 'no reason given.'}`);
  }
  return rewritten;
}

/**
 * The ONNX file of a causal LM that also returns each step's new keys / values (SessionOptions.kvAppend,
 * onnx/kvAppend.ts): a rewritten copy cached like the others, or the model's own file when its graph is not one
 * that rewrite knows (generation then fetches the whole present each step, as before).
 */
export async function kvAppendModelFile(model: Pick<ModelInfo, 'id' | 'path' | 'outputs'>, cacheDir?: string): Promise<string> {
  const file = path.join(model.path, ONNX_FILE);
  if (model.outputs.some((name) => name.startsWith(NEW_KV_PREFIX))) return file; // exported with them
  const { path: rewritten, mapping } = await exposeOutputsCached(file, exposeCacheDir(model, cacheDir), { kvAppend: true }, manifestSha256(model));
  return mapping.kvAppend ? rewritten : file;
}

/** A download's manifest has the graph's sha256 already: no need to hash hundreds of megabytes again. */
function manifestSha256(model: Pick<ModelInfo, 'path'>): string | undefined {
  return readModelManifest(model.path)?.files.find((f) => f.path === 'onnx/model.onnx')?.sha256;
}
