/**
 * A model file's fingerprint: its size and the sha1 of its first and last 64 KiB (no mtime: it survives a git checkout; static vectors: vectors.bin). Files derived from a model (sense
 * vectors, an ELMo head's tagger) record it, to notice that the model they were made from has been replaced. Cheap
 * (two reads) where a full hash of a large graph would not be; `training/pos.py` computes the same in Python.
 */
import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ModelInfo } from '../api';
import { ONNX_FILE } from '../modelStore';
import { StampedCache } from '../fileStamp';

const SPAN = 65_536;

export async function modelFingerprint(model: Pick<ModelInfo, 'path' | 'kind'>): Promise<string> {
  const file = fingerprintFile(model);
  const { size } = await stat(file);
  const handle = await open(file, 'r');
  try {
    const span = Math.min(size, SPAN);
    const head = Buffer.alloc(span);
    const tail = Buffer.alloc(span);
    await handle.read(head, 0, span, 0);
    await handle.read(tail, 0, span, size - span);
    return `${size}-${createHash('sha1').update(head).update(tail).digest('hex').slice(0, 16)}`;
  } finally {
    await handle.close();
  }
}

const fingerprints = new StampedCache<string>();

/** The file a fingerprint is of: the ONNX graph, or a static-vectors model's vectors.bin. */
function fingerprintFile(model: Pick<ModelInfo, 'path' | 'kind'>): string {
  return path.join(model.path, model.kind === 'static-vectors' ? 'vectors.bin' : ONNX_FILE);
}

/** modelFingerprint, read once per model file in this process, and again when the file changes (size, mtime). */
export function cachedFingerprint(model: Pick<ModelInfo, 'path' | 'kind'>): Promise<string> {
  return fingerprints.get(model.path, fingerprintFile(model), () => modelFingerprint(model));
}
