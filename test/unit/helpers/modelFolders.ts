/** Test helper: temporary model directories with good and broken model folders. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { elmoLikeModel } from './onnxWriter';

export const ELMO_CONFIG = {
  model_type: 'elmo',
  max_characters_per_token: 50,
  layer_names: ['token', 'lstm1', 'lstm2'],
  add_sentence_boundaries: true,
};

export function tempDir(prefix = 'lm-lens-test-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface FolderSpec {
  /** Object -> JSON, string -> written as is, undefined -> no config.json. */
  config?: object | string;
  /** Bytes of onnx/model.onnx, or undefined for none. */
  onnx?: Uint8Array;
  files?: Record<string, string | Uint8Array>;
}

export function writeModelFolder(directory: string, id: string, spec: FolderSpec): string {
  const folder = path.join(directory, id);
  mkdirSync(folder, { recursive: true });
  if (spec.config !== undefined) {
    const text = typeof spec.config === 'string' ? spec.config : JSON.stringify(spec.config);
    writeFileSync(path.join(folder, 'config.json'), text);
  }
  if (spec.onnx) {
    mkdirSync(path.join(folder, 'onnx'), { recursive: true });
    writeFileSync(path.join(folder, 'onnx', 'model.onnx'), spec.onnx);
  }
  for (const [name, content] of Object.entries(spec.files ?? {})) writeFileSync(path.join(folder, name), content);
  return folder;
}

/** A working ELMo-shaped model folder (the hand-built graph from onnxWriter). */
export function writeElmoFolder(directory: string, id = 'elmo-test', config: object = ELMO_CONFIG): string {
  return writeModelFolder(directory, id, { config, onnx: elmoLikeModel() });
}

/** Repository paths, from out/test/unit/<file>.js. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const DIST = path.join(REPO_ROOT, 'dist');
export const FIXTURES = path.join(REPO_ROOT, 'out', 'fixtures');
export const SHIPPED_MODELS = path.join(REPO_ROOT, 'media', 'models');
