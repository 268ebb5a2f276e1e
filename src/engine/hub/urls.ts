/**
 * Validation of everything that ends up in a URL or a local path, and the Hub's URL shapes.
 */
import { isIP } from 'node:net';
import path from 'node:path';
import { DownloadError, badRequest } from './errors';

/** One part of a repo id, as the Hub allows it: letters, digits, `.`, `_`, `-`, not starting or ending with `.` / `-`. */
const REPO_PART = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$/;
const REVISION = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,254}$/;
const LOCAL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** Checks `owner/name`; `..` and `--` are refused like the Hub does (`--` also separates owner and name in local ids). */
export function validateRepoId(repo: string): string {
  const parts = typeof repo === 'string' ? repo.split('/') : [];
  const ok = parts.length === 2 && parts.every((p) => REPO_PART.test(p)) && !repo.includes('..') && !repo.includes('--');
  if (!ok) {
    throw badRequest(
      `Invalid model repository "${String(repo)}": expected owner/name with letters, digits, '.', '_' or '-' ` +
        '(for example Xenova/bert-base-uncased).',
    );
  }
  return repo;
}

/** A branch, tag or commit: `main`, `v1.0`, `refs/pr/3`, a 40-hex sha. */
export function validateRevision(revision: string): string {
  if (typeof revision !== 'string' || !REVISION.test(revision) || revision.includes('..') || revision.includes('//')) {
    throw badRequest(`Invalid revision "${String(revision)}": use a branch, a tag or a commit id.`);
  }
  return revision;
}

/** A local model id (folder name): letters, digits, `.`, `_`, `-`. */
export function validateLocalId(id: string): string {
  if (typeof id !== 'string' || !LOCAL_ID.test(id) || id.includes('..')) {
    throw badRequest(`Invalid model id "${String(id)}": use letters, digits, '.', '_' or '-'.`);
  }
  return id;
}

/**
 * A file path inside a repository: relative, `/`-separated, no `.`/`..`/empty segments, no
 * backslashes, drive letters or control characters.
 */
export function validateRepoPath(file: string): string {
  const bad =
    typeof file !== 'string' ||
    file.length === 0 ||
    file.length > 1024 ||
    file.startsWith('/') ||
    file.includes('\\') ||
    file.includes(':') ||
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f]/.test(file) ||
    file.split('/').some((segment) => segment === '' || segment === '.' || segment === '..');
  if (bad) {
    throw badRequest(`Refusing unsafe file path "${String(file)}" (absolute, traversing or with backslashes).`);
  }
  return file;
}

/** `dir` joined with a validated repo-relative path; never escapes `dir`. */
export function safeJoin(dir: string, file: string): string {
  const full = path.resolve(dir, ...validateRepoPath(file).split('/'));
  const root = path.resolve(dir);
  if (!full.startsWith(root + path.sep)) {
    throw badRequest(`Refusing file path "${file}": it leaves the model folder.`);
  }
  return full;
}

/** localhost, 127.0.0.0/8, ::1 (and ::ffff:127.x.y.z). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost') {
    return true;
  }
  if (isIP(host) === 4) {
    return host.startsWith('127.');
  }
  if (isIP(host) === 6) {
    return host === '::1' || /^::ffff:127\./.test(host) || host === '0:0:0:0:0:0:0:1';
  }
  return false;
}

/** Only https, or plain http to this machine; no credentials in the URL. */
export function checkUrlAllowed(url: URL): void {
  const allowed = url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
  if (!allowed) {
    throw new DownloadError(
      'BAD_INPUT',
      'unsafe-url',
      `Refusing to download from ${url.origin}: only https is allowed (plain http only to this machine).`,
      { url: url.href },
    );
  }
  if (url.username || url.password) {
    throw new DownloadError('BAD_INPUT', 'unsafe-url', 'Refusing a URL with credentials in it; pass a token instead.', {
      url: url.origin,
    });
  }
}

/** Parses and checks the endpoint (`https://huggingface.co`, or a mirror with an optional path prefix). */
export function parseEndpoint(endpoint: string): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw badRequest(`Invalid endpoint "${endpoint}": expected a URL such as https://huggingface.co.`);
  }
  checkUrlAllowed(url);
  if (url.search || url.hash) {
    throw badRequest(`Invalid endpoint "${endpoint}": no query or fragment allowed.`);
  }
  return url;
}

/** A URL under the endpoint's path (`https://mirror.example/hf` + `/api/...`). */
function under(endpoint: URL, suffix: string): URL {
  return new URL(`${endpoint.origin}${endpoint.pathname.replace(/\/+$/, '')}${suffix}`);
}

const encodePath = (file: string): string => file.split('/').map(encodeURIComponent).join('/');

/** `{endpoint}/{repo}/resolve/{revision}/{path}` */
export function fileUrl(endpoint: URL, repo: string, revision: string, file: string): URL {
  return under(endpoint, `/${repo}/resolve/${encodeURIComponent(revision)}/${encodePath(file)}`);
}

/** `{endpoint}/api/models/{repo}/tree/{revision}?recursive=true` */
export function treeUrl(endpoint: URL, repo: string, revision: string): URL {
  return under(endpoint, `/api/models/${repo}/tree/${encodeURIComponent(revision)}?recursive=true`);
}

/** `{endpoint}/api/models/{repo}/revision/{revision}?blobs=true` (siblings with sizes and LFS ids) */
export function revisionInfoUrl(endpoint: URL, repo: string, revision: string): URL {
  return under(endpoint, `/api/models/${repo}/revision/${encodeURIComponent(revision)}?blobs=true`);
}
