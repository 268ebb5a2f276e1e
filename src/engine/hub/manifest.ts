/**
 * The state of a downloaded model folder. A download writes `.lm-lens-download.json` first and
 * `.lm-lens-complete.json` (the manifest) last, after every required file is in place; partial
 * folders are therefore never mistaken for models. A lock file keeps two downloads (CLI and
 * extension, say) out of the same folder.
 */
import { closeSync, existsSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { DownloadError } from './errors';
import type { Variant } from './layout';
import { safeJoin } from './urls';

export const MANIFEST_FILE = '.lm-lens-complete.json';
export const IN_PROGRESS_FILE = '.lm-lens-download.json';
export const LOCK_FILE = '.lm-lens-download.lock';

export interface ManifestFile {
  /** Path in the model folder. */
  path: string;
  /** Path in the repository it came from (differs for the graph: onnx/model_quantized.onnx -> onnx/model.onnx). */
  source: string;
  size: number;
  sha256: string;
}

export interface ModelManifest {
  format: 1;
  repo: string;
  endpoint: string;
  revision: string;
  /** The commit the files came from, when the server said (X-Repo-Commit or the API). */
  commit?: string;
  variant: Variant;
  completedAt: string;
  files: ManifestFile[];
}

export type ModelDirState =
  /** A finished download: the manifest is there and every file it lists has its size. */
  | 'complete'
  /** A download started here and did not finish (or its files were damaged since). */
  | 'partial'
  /** A folder this module did not download (no marker, no manifest): judge it by its content. */
  | 'unmanaged'
  | 'missing';

function isManifest(value: unknown): value is ModelManifest {
  const m = value as ModelManifest | null;
  return (
    typeof m === 'object' &&
    m !== null &&
    m.format === 1 &&
    typeof m.repo === 'string' &&
    Array.isArray(m.files) &&
    m.files.every((f) => typeof f?.path === 'string' && typeof f.size === 'number' && typeof f.sha256 === 'string')
  );
}

/**
 * A small file's text; throws for a FIFO, socket or device without opening it (opening a FIFO blocks until
 * something writes to it, and these reads are synchronous: the whole thread would hang).
 */
function readRegularFileSync(file: string): string {
  if (!statSync(file).isFile()) {
    throw new Error(`${file} is not a regular file`);
  }
  return readFileSync(file, 'utf8');
}

/** The manifest of a completed download, or undefined (none, unreadable, malformed or not a regular file). */
export function readModelManifest(dir: string): ModelManifest | undefined {
  try {
    const value: unknown = JSON.parse(readRegularFileSync(path.join(dir, MANIFEST_FILE)));
    return isManifest(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export function modelDirState(dir: string): ModelDirState {
  try {
    if (!statSync(dir).isDirectory()) {
      return 'missing';
    }
  } catch {
    return 'missing';
  }
  const hasManifest = existsSync(path.join(dir, MANIFEST_FILE));
  if (hasManifest) {
    const manifest = readModelManifest(dir);
    const intact =
      manifest !== undefined &&
      manifest.files.every((f) => {
        try {
          return statSync(safeJoin(dir, f.path)).size === f.size;
        } catch {
          return false;
        }
      });
    return intact ? 'complete' : 'partial';
  }
  const ours = existsSync(path.join(dir, IN_PROGRESS_FILE)) || existsSync(path.join(dir, LOCK_FILE));
  return ours ? 'partial' : 'unmanaged';
}

/**
 * True when `dir` holds a usable model as far as downloads go: a complete download, or a folder
 * this module never touched that has a config.json (hand-made and shipped models). False for a
 * partial or damaged download. Synchronous and cheap (a few stats): for the model store's scan.
 */
export function isCompleteModelDir(dir: string): boolean {
  const state = modelDirState(dir);
  return state === 'complete' || (state === 'unmanaged' && existsSync(path.join(dir, 'config.json')));
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(tmp, file);
}

export async function writeManifest(dir: string, manifest: ModelManifest): Promise<void> {
  await writeJsonAtomic(path.join(dir, MANIFEST_FILE), manifest);
  await rm(path.join(dir, IN_PROGRESS_FILE), { force: true });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the folder's download lock (O_EXCL file with pid and host). A lock left by a process that
 * is gone (same host) is taken over. Returns the release function.
 */
export function lockModelDir(dir: string): () => void {
  const file = path.join(dir, LOCK_FILE);
  const owner = `${process.pid}@${hostname()}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, owner);
      closeSync(fd);
      return () => {
        try {
          if (readRegularFileSync(file) === owner) {
            unlinkSync(file);
          }
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw error;
      }
      let holder = '';
      try {
        holder = readRegularFileSync(file);
      } catch {
        continue; // released meanwhile: try again
      }
      const [pid, host] = holder.split('@');
      const stale = host === hostname() && Number(pid) > 0 && !processAlive(Number(pid));
      if (!stale) {
        throw new DownloadError(
          'DOWNLOAD_FAILED',
          'busy',
          `Another download into ${dir} is running (${holder || 'unknown process'}). Wait for it, or cancel it first.`,
        );
      }
      try {
        unlinkSync(file);
      } catch {
        // someone else took it over first; the next open decides
      }
    }
  }
  throw new DownloadError('DOWNLOAD_FAILED', 'busy', `Could not take the download lock in ${dir}.`);
}
