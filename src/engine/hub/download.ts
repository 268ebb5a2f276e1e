/**
 * downloadModel: a Hugging Face Hub repository (or a static mirror of one) -> a model folder in the
 * transformers.js layout under `destRoot`, resumable, checked, and only marked complete at the end.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { DownloadError, badRequest, downloadCancelled } from './errors';
import { Expected, FetchContext, fetchFile, pause, reuseExisting } from './fetchFile';
import type { GetOptions } from './http';
import {
  FileSlot,
  LOCAL_ONNX,
  RepoListing,
  TOKENIZER_FILES,
  Variant,
  externalDataCandidates,
  listRepoFiles,
  modelSlots,
  planFromListing,
} from './layout';
import {
  IN_PROGRESS_FILE,
  LOCK_FILE,
  MANIFEST_FILE,
  ManifestFile,
  ModelManifest,
  lockModelDir,
  modelDirState,
  readModelManifest,
  writeJsonAtomic,
  writeManifest,
} from './manifest';
import { ProgressCallback, ProgressTracker } from './progress';
import { parseEndpoint, validateLocalId, validateRepoId, validateRevision } from './urls';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';
/** 2 GiB: ONNX files (protobuf) cannot be larger without external data anyway. */
export const DEFAULT_MAX_BYTES = 2 * 1024 * 1024 * 1024;
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface DownloadOptions {
  /** `owner/name`, e.g. `Xenova/bert-base-uncased`. */
  repo: string;
  /** Hub or mirror base URL (https, or http to loopback). Default https://huggingface.co. */
  endpoint?: string;
  /** Branch, tag or commit. Default `main`. */
  revision?: string;
  /** `fp32` (onnx/model.onnx) or `quantized` (onnx/model_quantized.onnx). Default `fp32`. */
  variant?: Variant;
  /** Folder that holds model folders; the model goes to `<destRoot>/<id>`. */
  destRoot: string;
  /** Local folder name. Default `owner--name`, plus `-quantized` for the quantized variant. */
  id?: string;
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
  /** Size cap for the whole model. Default 2 GiB. */
  maxBytes?: number;
  /** Hub access token for gated or private repositories (sent to the endpoint only, never to a CDN). */
  token?: string;
  /** Idle time before a request fails. Default 30 s. */
  timeoutMs?: number;
  /** Extra attempts per file after a dropped connection, timeout, 5xx or 429. Default 3. */
  retries?: number;
  /** First pause between attempts, doubled each time. Default 1 s. */
  retryDelayMs?: number;
  /**
   * Start again from nothing: replaces a complete or partial download in `<destRoot>/<id>`, even of
   * another repository (never a folder LM Lens did not download).
   */
  force?: boolean;
}

export interface DownloadedFile {
  /** Path in the model folder. */
  path: string;
  /** Path in the repository. */
  source: string;
  size: number;
  sha256: string;
}

export interface DownloadResult {
  /** Folder name under destRoot: the model id the model store lists. */
  id: string;
  path: string;
  files: DownloadedFile[];
  commit?: string;
  /** True when a complete copy was already there and nothing was downloaded. */
  alreadyPresent: boolean;
}

const COMMIT = /^[0-9a-f]{40}$/;

/** `Xenova/bert-base-uncased` -> `Xenova--bert-base-uncased` (`-quantized` appended for that variant). */
export function defaultModelId(repo: string, variant: Variant = 'fp32'): string {
  return `${validateRepoId(repo).replace('/', '--')}${variant === 'quantized' ? '-quantized' : ''}`;
}

function resultFromManifest(id: string, dir: string, manifest: ModelManifest, alreadyPresent: boolean): DownloadResult {
  return {
    id,
    path: dir,
    files: manifest.files.map((f) => ({ ...f })),
    commit: manifest.commit,
    alreadyPresent,
  };
}

/**
 * Downloads a model repository into `<destRoot>/<id>`:
 * lists it through the Hub API when the endpoint has one (else tries the known file names, so a
 * static mirror works), downloads each file with resume and integrity checks, and writes the
 * `.lm-lens-complete.json` manifest last. Errors are DownloadErrors (LensError codes NETWORK,
 * DOWNLOAD_FAILED, MODEL_NOT_FOUND, BAD_INPUT, CANCELLED); after one, running again resumes.
 */
export async function downloadModel(options: DownloadOptions): Promise<DownloadResult> {
  const repo = validateRepoId(options.repo);
  const revision = validateRevision(options.revision ?? 'main');
  const variant = options.variant ?? 'fp32';
  if (variant !== 'fp32' && variant !== 'quantized') {
    throw badRequest(`Unknown variant "${String(variant)}": use fp32 or quantized.`);
  }
  const endpoint = parseEndpoint(options.endpoint ?? DEFAULT_ENDPOINT);
  const id = validateLocalId(options.id ?? defaultModelId(repo, variant));
  if (!options.destRoot) {
    throw badRequest('No destination folder given for the download.');
  }
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!(maxBytes > 0)) {
    throw badRequest(`Invalid size limit ${maxBytes}.`);
  }
  const dir = path.resolve(options.destRoot, id);
  if (options.signal?.aborted) {
    throw downloadCancelled();
  }

  const state = modelDirState(dir);
  if (state === 'unmanaged' && readdirSync(dir).length > 0) {
    throw badRequest(`${dir} already exists and was not downloaded by LM Lens. Choose another id.`);
  }
  if (state === 'complete' || state === 'partial') {
    // Ours: a complete download, or a partial one to resume. Which model is it?
    // (No owner yet: another download has just taken the lock and not written its marker; the lock decides.)
    const owner = readModelManifest(dir) ?? readInProgress(dir);
    const same = owner === undefined || (owner.repo === repo && owner.variant === variant);
    if (state === 'complete' && same && !options.force) {
      return resultFromManifest(id, dir, readModelManifest(dir) as ModelManifest, true);
    }
    if (!same && !options.force) {
      throw badRequest(
        state === 'complete'
          ? `${dir} already holds ${owner?.repo} (${owner?.variant}). Choose another id, or force a new download.`
          : `${dir} holds an unfinished download of ${owner?.repo ?? 'another model'}. Choose another id, or force a new download.`,
      );
    }
  }

  await mkdir(dir, { recursive: true });
  const release = lockModelDir(dir); // before touching anything: another download may be running
  try {
    if (options.force && state !== 'missing') {
      await clearExceptLock(dir); // our own folder (checked above): start clean
    }
    await rm(path.join(dir, MANIFEST_FILE), { force: true });
    await writeJsonAtomic(path.join(dir, IN_PROGRESS_FILE), {
      repo,
      endpoint: endpoint.href,
      revision,
      variant,
      startedAt: new Date().toISOString(),
    });
    const manifest = await downloadInto(dir, { ...options, repo, revision, variant, maxBytes }, endpoint);
    await writeManifest(dir, manifest);
    return resultFromManifest(id, dir, manifest, false);
  } finally {
    release();
  }
}

async function clearExceptLock(dir: string): Promise<void> {
  for (const entry of await readdir(dir)) {
    if (entry !== LOCK_FILE) {
      await rm(path.join(dir, entry), { recursive: true, force: true });
    }
  }
}

/** The in-progress marker's repo and variant, if readable. */
function readInProgress(dir: string): { repo?: string; variant?: Variant } | undefined {
  try {
    return JSON.parse(readFileSync(path.join(dir, IN_PROGRESS_FILE), 'utf8')) as { repo?: string; variant?: Variant };
  } catch {
    return undefined;
  }
}

type Resolved = DownloadOptions & { repo: string; revision: string; variant: Variant; maxBytes: number };

async function downloadInto(dir: string, options: Resolved, endpoint: URL): Promise<ModelManifest> {
  const progress = new ProgressTracker(options.onProgress);
  const http: GetOptions = {
    signal: options.signal,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    token: options.token,
  };
  const retries = options.retries ?? 3;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  progress.listing();
  let listing: RepoListing | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      listing = await listRepoFiles(endpoint, options.repo, options.revision, http);
      break;
    } catch (error) {
      if (!(error instanceof DownloadError) || !error.retryable || attempt >= retries) {
        throw error;
      }
      await pause(retryDelayMs * 2 ** attempt, options.signal);
    }
  }
  const slots = listing ? planFromListing(modelSlots(options.variant), listing, options.repo) : modelSlots(options.variant);

  const ctx: FetchContext = {
    endpoint,
    repo: options.repo,
    revision: listing?.commit ?? options.revision,
    dir,
    http,
    progress,
    retries,
    retryDelayMs,
    budget: { maxBytes: options.maxBytes, used: 0 },
  };
  if (listing) {
    let total = 0;
    for (const slot of slots) {
      const size = listing.files.get(slot.candidates[0])?.size;
      progress.plan(slot.candidates[0], size);
      total += size ?? 0;
    }
    if (total > options.maxBytes) {
      throw new DownloadError(
        'DOWNLOAD_FAILED',
        'too-large',
        `${options.repo} is ${Math.round(total / 2 ** 20)} MiB, over the download size limit of ` +
          `${Math.round(options.maxBytes / 2 ** 20)} MiB. Raise the limit (maxBytes) if you really want this model.`,
      );
    }
  } else {
    for (const slot of slots) {
      progress.plan(slot.candidates[0]);
    }
  }

  const files: ManifestFile[] = [];
  let commit = listing?.commit;
  const queue = [...slots];
  for (let i = 0; i < queue.length; i++) {
    const slot = queue[i];
    const got = await fetchSlot(ctx, slot, listing);
    if (!got) {
      continue;
    }
    files.push(got.file);
    if (!commit && got.commit && COMMIT.test(got.commit)) {
      // Pin the rest of the download to the commit the first file came from.
      commit = got.commit;
      ctx.revision = commit;
    }
    if (slot.local === LOCAL_ONNX && !listing) {
      // A mirror cannot list files: look for the graph's external weights by name.
      queue.splice(i + 1, 0, ...externalDataCandidates(got.file.source).map((c) => ({ local: c, candidates: [c], required: false })));
    }
  }
  if (!files.some((f) => TOKENIZER_FILES.includes(f.path))) {
    throw new DownloadError('MODEL_NOT_FOUND', 'not-found', `${options.repo} has no tokenizer (${TOKENIZER_FILES.join(', ')}).`);
  }
  progress.complete();
  return {
    format: 1,
    repo: options.repo,
    endpoint: endpoint.href,
    revision: options.revision,
    ...(commit ? { commit } : {}),
    variant: options.variant,
    completedAt: new Date().toISOString(),
    files,
  };
}

/** Fetches the first candidate of a slot that exists; undefined for an optional slot with none. */
async function fetchSlot(
  ctx: FetchContext,
  slot: FileSlot,
  listing: RepoListing | undefined,
): Promise<{ file: ManifestFile; commit?: string } | undefined> {
  for (const remote of slot.candidates) {
    const listed = listing?.files.get(remote);
    const expected: Expected = { size: listed?.size, sha256: listed?.sha256, gitOid: listed?.gitOid };
    const reused = listing ? await reuseExisting(ctx, slot.local, expected) : undefined;
    if (reused) {
      ctx.budget.used += reused.size;
      ctx.progress.finish(remote, reused.size);
      return { file: { path: slot.local, source: remote, ...reused } };
    }
    const result = await fetchFile(ctx, remote, slot.local, expected);
    if (result.status === 'done') {
      return { file: { path: slot.local, source: remote, size: result.size, sha256: result.sha256 }, commit: result.commit };
    }
    ctx.progress.unplan(remote);
  }
  if (slot.required) {
    const tried = slot.candidates.join(', ');
    throw new DownloadError(
      'MODEL_NOT_FOUND',
      'not-found',
      `${ctx.repo}@${ctx.revision}: ${tried} not found (HTTP 404). Check the repository name and revision` +
        (slot.local === LOCAL_ONNX ? ', and that it has an ONNX export (transformers.js layout).' : '.'),
    );
  }
  return undefined;
}
