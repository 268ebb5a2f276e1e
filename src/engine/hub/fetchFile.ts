/**
 * Downloads one repository file into the model folder: into `<file>.part`, resuming an earlier
 * `.part` with an HTTP Range request, checking size and checksum, then renaming into place.
 *
 * A `.part.json` sidecar records what the `.part` is a piece of (repo path, sha256, ETag, size) so
 * a resume never glues together two versions of a file. A network failure keeps the `.part` (the
 * next attempt or run resumes it); an integrity failure deletes it.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { lstat, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkContent, refuseByHeaders } from './content';
import { DownloadError, downloadCancelled } from './errors';
import { type GetOptions, type HubFileHeaders, httpError, httpGet, networkError, stalledError, watchForStall } from './http';
import type { ProgressTracker } from './progress';
import { fileUrl, safeJoin } from './urls';

/** What the listing (if any) says about the file. */
export interface Expected {
  size?: number;
  sha256?: string;
  gitOid?: string;
}

export interface FetchContext {
  endpoint: URL;
  repo: string;
  /** Branch, tag or (once known) the commit, so every file comes from the same one. */
  revision: string;
  dir: string;
  http: GetOptions;
  progress: ProgressTracker;
  /** Extra attempts after a dropped connection, timeout or 5xx / 429. */
  retries: number;
  retryDelayMs: number;
  /** Bytes the whole download may still take. */
  budget: { maxBytes: number; used: number };
}

export type FetchResult =
  | { status: 'done'; size: number; sha256: string; commit?: string }
  /** HTTP 404: the file is not in the repository. */
  | { status: 'missing' };

interface PartInfo {
  remote: string;
  sha256?: string;
  etag?: string;
  size?: number;
}

const SHA256 = /^[0-9a-f]{64}$/;
const GIT_OID = /^[0-9a-f]{40}$/;

async function sizeOf(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size;
  } catch {
    return undefined;
  }
}

async function readPartInfo(file: string): Promise<PartInfo | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as PartInfo;
  } catch {
    return undefined;
  }
}

/**
 * DOWNLOAD_FAILED when `file` is there but is not a regular file (links not followed): a FIFO as `<file>.part`
 * (or `.part.json`) blocked the download for ever on open, a folder failed as a "lost connection" three times,
 * and a link would have been written through, outside the model folder. Nothing is opened to find out.
 */
async function checkRegularOrAbsent(file: string, what: string): Promise<void> {
  let info: Stats;
  try {
    info = await lstat(file);
  } catch {
    return; // absent (or unreadable: the operations that need it say so)
  }
  if (info.isFile()) return;
  const kind = info.isDirectory()
    ? 'a folder'
    : info.isSymbolicLink()
      ? 'a symbolic link'
      : info.isFIFO()
        ? 'a FIFO (named pipe)'
        : 'a special file';
  throw new DownloadError(
    'DOWNLOAD_FAILED',
    'bad-request',
    `${what}: ${file} is ${kind}, not a regular file, so the download does not touch it. Remove it, or add the model again with force (a new download).`,
  );
}

/** Feeds `file` (already on disk) into the hashes. */
async function hashFile(file: string, hashes: Hash[], signal?: AbortSignal): Promise<void> {
  for await (const chunk of createReadStream(file, { signal })) {
    for (const hash of hashes) {
      hash.update(chunk as Buffer);
    }
  }
}

/** sha256 of `content`, and the git blob id (sha1 of "blob <size>\0" + content) when `size` is known. */
function startHashes(gitSize: number | undefined): { sha256: Hash; git?: Hash } {
  const sha256 = createHash('sha256');
  if (gitSize === undefined) {
    return { sha256 };
  }
  const git = createHash('sha1');
  git.update(`blob ${gitSize}\0`);
  return { sha256, git };
}

/** The identity a server gives a file; a `.part` made from another identity cannot be resumed. */
function sameFile(part: PartInfo | undefined, remote: string, now: PartInfo): boolean {
  if (!part || part.remote !== remote) {
    return false;
  }
  if (part.sha256 && now.sha256) {
    return part.sha256 === now.sha256;
  }
  if (part.etag && now.etag && part.etag !== now.etag) {
    return false;
  }
  return !(part.size !== undefined && now.size !== undefined && part.size !== now.size);
}

/** Parses `bytes 100-199/200` (a 206) and `bytes star/200` (a 416, star being an asterisk). */
function parseContentRange(value: string | undefined): { start?: number; total?: number } | undefined {
  const match = value ? /^bytes\s+(?:(\d+)-\d+|\*)\/(\d+|\*)$/.exec(value.trim()) : null;
  if (!match) {
    return undefined;
  }
  return {
    start: match[1] === undefined ? undefined : Number(match[1]),
    total: match[2] === '*' ? undefined : Number(match[2]),
  };
}

/** The .part cannot be resumed: start the file again from its first byte (not a failed attempt). */
class RestartNeeded extends Error {}

class IntegrityError extends DownloadError {
  constructor(
    message: string,
    url: string,
    /** The checked content was partly resumed from an earlier .part. */
    readonly resumed: boolean,
  ) {
    super('DOWNLOAD_FAILED', 'integrity', message, { url });
  }
}

function tooLarge(limit: number, what: string): DownloadError {
  const mib = (n: number): string => `${Math.round(n / (1024 * 1024))} MiB`;
  return new DownloadError(
    'DOWNLOAD_FAILED',
    'too-large',
    `${what} would exceed the download size limit of ${mib(limit)}. Raise the limit (maxBytes) if you really want this model.`,
  );
}

/**
 * One attempt: request (with Range when resuming), stream into `.part`, verify, rename.
 * Throws DownloadError; `retryable` ones leave a resumable `.part`.
 */
async function attempt(ctx: FetchContext, remote: string, local: string, expected: Expected, fresh: boolean): Promise<FetchResult> {
  const finalPath = safeJoin(ctx.dir, local);
  const partPath = `${finalPath}.part`;
  const infoPath = `${finalPath}.part.json`;
  await mkdir(path.dirname(finalPath), { recursive: true });
  for (const file of [finalPath, partPath, infoPath]) await checkRegularOrAbsent(file, `${remote} from ${ctx.repo}`);
  if (fresh) {
    await rm(partPath, { force: true });
  }

  let have = (await sizeOf(partPath)) ?? 0;
  const partInfo = have > 0 ? await readPartInfo(infoPath) : undefined;
  if (have > 0 && partInfo?.remote !== remote) {
    await rm(partPath, { force: true }); // not ours to resume
    have = 0;
  }

  const url = fileUrl(ctx.endpoint, ctx.repo, ctx.revision, remote);
  const headers: Record<string, string> = have > 0 ? { range: `bytes=${have}-` } : {};
  const response = await httpGet(url, { ...ctx.http, headers });
  const { status, body } = response;
  const hub: HubFileHeaders = response.hub;
  const what = `${remote} from ${ctx.repo}`;

  if (status === 404) {
    body.resume();
    return { status: 'missing' };
  }
  const range = parseContentRange(response.headers['content-range']);
  const contentLength = Number(response.headers['content-length']);
  const lengthKnown = Number.isSafeInteger(contentLength) && contentLength >= 0;
  const size =
    expected.size ??
    hub.linkedSize ??
    range?.total ??
    (status === 200 && lengthKnown ? contentLength : undefined);
  const linkedSha = hub.linkedEtag && SHA256.test(hub.linkedEtag) ? hub.linkedEtag : undefined;
  const sha256 = expected.sha256 ?? linkedSha;
  // A Hub ETag is the git blob id of a non-LFS file; a static server's ETag is not, so trust it only
  // when the Hub's own headers are there.
  const hubEtagOid = hub.repoCommit && !hub.linkedEtag && hub.etag && GIT_OID.test(hub.etag) ? hub.etag : undefined;
  const gitOid = sha256 ? undefined : (expected.gitOid ?? hubEtagOid);
  const now: PartInfo = { remote, sha256, etag: hub.etag, size };

  if (status === 416 && have > 0) {
    // Nothing after `have`: the .part may already be whole. Verify it as it is.
    body.resume();
    if (size === undefined || have === size) {
      return finish(ctx, { remote, local, finalPath, partPath, infoPath, url, size: have, sha256, gitOid, commit: hub.repoCommit, what, resumed: true });
    }
    throw new RestartNeeded(); // the .part is longer than the file: not a piece of it
  }
  if (status !== 200 && status !== 206) {
    body.resume();
    throw httpError(status, response.headers, url, what);
  }
  const badAnswer = await refuseByHeaders(response.headers, body, what, local, url.href);
  if (badAnswer) {
    throw badAnswer; // before anything is written: a .part being resumed stays as it was
  }

  let append = false;
  if (status === 206) {
    append = have > 0 && range?.start === have && sameFile(partInfo, remote, now);
    if (!append) {
      body.destroy();
      throw new RestartNeeded(); // the .part is a piece of another version of the file
    }
  } else if (have > 0) {
    have = 0; // a 200 to a Range request: the whole file again
  }

  if (!append && status === 200 && size !== undefined && (await sizeOf(finalPath)) === size) {
    // Already in place from an interrupted run (a mirror has no listing to tell us before asking).
    body.pause();
    const reused = await reuseExisting(ctx, local, { size, sha256, gitOid });
    if (reused) {
      body.destroy();
      ctx.budget.used += reused.size;
      ctx.progress.finish(remote, reused.size);
      return { status: 'done', ...reused, commit: hub.repoCommit };
    }
  }
  if (size !== undefined && ctx.budget.used + size > ctx.budget.maxBytes) {
    body.destroy();
    throw tooLarge(ctx.budget.maxBytes, `Downloading ${what} (${size} bytes)`);
  }
  await writeFile(infoPath, JSON.stringify(now));

  const hashes = startHashes(gitOid ? size : undefined);
  const hashList = hashes.git ? [hashes.sha256, hashes.git] : [hashes.sha256];
  if (append) {
    await hashFile(partPath, hashList, ctx.http.signal);
  }
  ctx.progress.start(remote, size, have);
  let received = 0;
  const limit = ctx.budget.maxBytes - ctx.budget.used;
  // Each chunk is written (awaited) before the next is read, so when the connection drops, the
  // .part holds every byte received: the resume starts exactly there.
  const file = await open(partPath, append ? 'a' : 'w');
  let failure: DownloadError | undefined;
  const stall = watchForStall(
    ctx.http.timeoutMs,
    () => received,
    () => (size === undefined ? undefined : size - have - received),
    (bytes) => body.destroy(stalledError(what, bytes, ctx.http.timeoutMs, url)),
  );
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      const total = have + received + chunk.length;
      if (size !== undefined && total > size) {
        failure = new IntegrityError(`${what}: the server sent more than the ${size} bytes announced.`, url.href, append);
        break; // leaving the loop destroys the response
      }
      if (total > limit) {
        failure = tooLarge(ctx.budget.maxBytes, `Downloading ${what}`);
        break;
      }
      await file.write(chunk);
      received += chunk.length;
      for (const hash of hashList) {
        hash.update(chunk);
      }
      ctx.progress.advance(chunk.length);
    }
  } catch (error) {
    failure = networkError(error, response.url, ctx.http.signal);
  } finally {
    stall.stop();
    await file.close();
  }
  if (failure) {
    if (failure.reason === 'integrity' || failure.reason === 'too-large') {
      await rm(partPath, { force: true }); // after close: Windows cannot delete an open file
    }
    throw failure;
  }
  const total = have + received;
  if (size !== undefined && total < size) {
    throw new DownloadError('NETWORK', 'connection-lost', `${what}: the connection ended after ${total} of ${size} bytes. Run again to resume.`, {
      url: url.href,
    });
  }
  return finish(ctx, {
    remote,
    local,
    finalPath,
    partPath,
    infoPath,
    url,
    size: total,
    sha256,
    gitOid,
    commit: hub.repoCommit,
    what,
    hashes,
    resumed: append,
  });
}

interface FinishArgs {
  remote: string;
  /** Path in the model folder (what the content must be is read from its name). */
  local: string;
  finalPath: string;
  partPath: string;
  infoPath: string;
  url: URL;
  size: number;
  sha256?: string;
  gitOid?: string;
  commit?: string;
  what: string;
  /** Hashes of the whole content, or undefined to hash the .part from disk. */
  hashes?: { sha256: Hash; git?: Hash };
  resumed: boolean;
}

async function finish(ctx: FetchContext, a: FinishArgs): Promise<FetchResult> {
  let hashes = a.hashes;
  if (!hashes) {
    hashes = startHashes(a.gitOid ? a.size : undefined);
    await hashFile(a.partPath, hashes.git ? [hashes.sha256, hashes.git] : [hashes.sha256], ctx.http.signal);
    ctx.progress.start(a.remote, a.size, a.size);
  }
  const digest = hashes.sha256.digest('hex');
  const gitDigest = hashes.git?.digest('hex');
  const mismatch =
    a.sha256 && digest !== a.sha256
      ? `sha256 ${digest}, expected ${a.sha256}`
      : a.gitOid && gitDigest && gitDigest !== a.gitOid
        ? `git blob id ${gitDigest}, expected ${a.gitOid}`
        : undefined;
  if (mismatch) {
    await rm(a.partPath, { force: true });
    await rm(a.infoPath, { force: true });
    throw new IntegrityError(`${a.what} is corrupt (${mismatch}); the partial file was deleted. Run again to retry.`, a.url.href, a.resumed);
  }
  const badContent = await checkContent(a.partPath, a.what, a.local, a.url.href);
  if (badContent) {
    await rm(a.partPath, { force: true });
    await rm(a.infoPath, { force: true });
    throw badContent;
  }
  await rename(a.partPath, a.finalPath);
  await rm(a.infoPath, { force: true });
  ctx.budget.used += a.size;
  ctx.progress.finish(a.remote, a.size);
  return { status: 'done', size: a.size, sha256: digest, commit: a.commit };
}

/**
 * Reuses a file already in place from an interrupted run when it matches what the listing says
 * (size, and checksum when known). Returns its size and sha256, or undefined to download it.
 */
export async function reuseExisting(ctx: FetchContext, local: string, expected: Expected): Promise<{ size: number; sha256: string } | undefined> {
  if (expected.size === undefined) {
    return undefined;
  }
  const finalPath = safeJoin(ctx.dir, local);
  if ((await sizeOf(finalPath)) !== expected.size) {
    return undefined;
  }
  const hashes = startHashes(expected.gitOid ? expected.size : undefined);
  await hashFile(finalPath, hashes.git ? [hashes.sha256, hashes.git] : [hashes.sha256], ctx.http.signal);
  const sha256 = hashes.sha256.digest('hex');
  if ((expected.sha256 && sha256 !== expected.sha256) || (expected.gitOid && hashes.git?.digest('hex') !== expected.gitOid)) {
    return undefined;
  }
  if (await checkContent(finalPath, local, local, finalPath)) {
    return undefined; // downloaded again, and refused then with the server's part of the story
  }
  return { size: expected.size, sha256 };
}

/** Waits between attempts; CANCELLED when the signal fires meanwhile. */
export async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    throw downloadCancelled();
  }
}

/**
 * Downloads `remote` to `local` in the model folder, resuming and retrying (a dropped connection,
 * a timeout, a 5xx or 429) up to `ctx.retries` times with growing pauses. A `.part` that cannot be
 * resumed, or a resumed file that fails its checksum, is started over once; a file downloaded in
 * one go that fails its checksum fails at once. `missing` for a 404.
 */
export async function fetchFile(ctx: FetchContext, remote: string, local: string, expected: Expected): Promise<FetchResult> {
  let fresh = false;
  let restarted = false;
  for (let attemptNo = 0; ; ) {
    try {
      return await attempt(ctx, remote, local, expected, fresh);
    } catch (error) {
      if (ctx.http.signal?.aborted) {
        throw downloadCancelled();
      }
      // Once per file, a .part that turns out not to fit (or a resumed file that fails its
      // checksum: its first part may be from an older version) is dropped and the file started over.
      const badPart = error instanceof RestartNeeded || (error instanceof IntegrityError && error.resumed);
      if (badPart && !restarted) {
        restarted = true;
        fresh = true;
        ctx.progress.restart();
        continue;
      }
      fresh = false;
      const failure =
        error instanceof DownloadError
          ? error
          : error instanceof RestartNeeded
            ? new DownloadError('DOWNLOAD_FAILED', 'http', `${remote}: the server does not resume this file consistently.`)
            : networkError(error, ctx.endpoint, ctx.http.signal);
      if (!failure.retryable || attemptNo >= ctx.retries) {
        throw failure;
      }
      await pause(ctx.retryDelayMs * 2 ** attemptNo, ctx.http.signal);
      attemptNo++;
    }
  }
}
