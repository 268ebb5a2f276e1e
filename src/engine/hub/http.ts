/**
 * A GET that follows redirects itself (each hop checked against the URL policy), reads the headers
 * the Hub puts on its first answer (X-Linked-Etag, X-Linked-Size, X-Repo-Commit, ETag) and turns
 * socket errors and HTTP statuses into DownloadErrors with messages a person can act on.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { DownloadError, downloadCancelled } from './errors';
import { checkUrlAllowed } from './urls';

export const MAX_REDIRECTS = 5;
const USER_AGENT = 'lm-lens/0.1 (model download; +https://huggingface.co/docs/hub)';

/** What the Hub says about a file, from whichever hop said it first. */
export interface HubFileHeaders {
  /** ETag of the first answer: the git blob id for small files, the sha256 for LFS files. */
  etag?: string;
  /** sha256 of an LFS file (X-Linked-Etag), unquoted. */
  linkedEtag?: string;
  /** Size of an LFS file (X-Linked-Size). */
  linkedSize?: number;
  /** Commit the revision resolved to (X-Repo-Commit). */
  repoCommit?: string;
}

export interface GetResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body; consume it or call `body.resume()` / `body.destroy()`. */
  body: IncomingMessage;
  /** The URL that answered (after redirects). */
  url: URL;
  hub: HubFileHeaders;
}

export interface GetOptions {
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Idle time (no bytes either way) after which the request fails. */
  timeoutMs: number;
  /** Bearer token, sent to the first URL's origin only (never to a CDN we are redirected to). */
  token?: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * A body must bring this many bytes (or the rest of the file, when less) in every `timeoutMs`: the idle timeout
 * alone never fires for a server that sends a byte every few seconds (one every 5 s ran for ever). 16 KiB per
 * 30 s is 0.5 KiB/s, far below any usable link.
 */
export const MIN_BYTES_PER_WINDOW = 16 * 1024;

/**
 * Watches a body being read: every `windowMs`, fewer than MIN_BYTES_PER_WINDOW new bytes (or fewer than `left()`,
 * the bytes still to come, when known and smaller) calls `onStall` with the bytes that came, once. `received()`
 * is the count so far. Call `stop` when reading ends.
 */
export function watchForStall(
  windowMs: number,
  received: () => number,
  left: () => number | undefined,
  onStall: (bytes: number) => void,
): { stop(): void } {
  let mark = received();
  const timer = setInterval(() => {
    const now = received();
    const rest = left();
    const need = Math.min(MIN_BYTES_PER_WINDOW, rest === undefined ? MIN_BYTES_PER_WINDOW : rest + (now - mark));
    if (now - mark < need) {
      clearInterval(timer);
      onStall(now - mark);
    }
    mark = now;
  }, windowMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** The error a stalled body is destroyed with: a retryable timeout (the next attempt resumes the .part). */
export function stalledError(what: string, bytes: number, windowMs: number, url: URL): DownloadError {
  return new DownloadError(
    'NETWORK',
    'timeout',
    `${what}: ${url.host} sent only ${bytes} bytes in ${Math.round(windowMs / 100) / 10} s, too slow to finish. Run again to resume.`,
    { url: url.href },
  );
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `W/"abc"` or `"abc"` -> `abc` */
export function unquoteEtag(value: string | undefined): string | undefined {
  if (!value) {
    return undefined;
  }
  return value.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

function collectHubHeaders(into: HubFileHeaders, headers: IncomingHttpHeaders, first: boolean): void {
  if (first) {
    into.etag = unquoteEtag(header(headers, 'etag'));
  }
  const linkedEtag = unquoteEtag(header(headers, 'x-linked-etag'));
  if (linkedEtag && !into.linkedEtag) {
    into.linkedEtag = linkedEtag;
  }
  const linkedSize = Number(header(headers, 'x-linked-size'));
  if (Number.isSafeInteger(linkedSize) && linkedSize >= 0 && into.linkedSize === undefined) {
    into.linkedSize = linkedSize;
  }
  const commit = header(headers, 'x-repo-commit');
  if (commit && !into.repoCommit) {
    into.repoCommit = commit;
  }
}

/** Maps a socket-level failure to NETWORK (or CANCELLED when `signal` fired). */
export function networkError(error: unknown, url: URL, signal?: AbortSignal): DownloadError {
  if (signal?.aborted) {
    return downloadCancelled();
  }
  if (error instanceof DownloadError) {
    return error;
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
  const host = url.host;
  const make = (reason: 'offline' | 'timeout' | 'connection-lost', message: string): DownloadError =>
    new DownloadError('NETWORK', reason, message, { url: url.href, cause: error });
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return make('offline', `Cannot reach ${host}: the name does not resolve (${code}). Are you offline? Check the connection or use a mirror endpoint.`);
    case 'ECONNREFUSED':
      return make('offline', `Cannot reach ${host}: the connection was refused. Is the server (or mirror) running?`);
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
    case 'ENETDOWN':
      return make('offline', `Cannot reach ${host}: the network is unreachable (${code}). Are you offline?`);
    case 'ETIMEDOUT':
    case 'ESOCKETTIMEDOUT':
      return make('timeout', `${host} did not answer in time (${code}). The network may be slow or offline; run again to resume.`);
    case 'CERT_HAS_EXPIRED':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return make('offline', `The TLS certificate of ${host} was not accepted (${code}); a proxy may be intercepting HTTPS.`);
    default:
      return make(
        'connection-lost',
        `The connection to ${host} was lost (${code || (error as Error | undefined)?.message || 'unknown error'}). Run again to resume.`,
      );
  }
}

/** Maps an HTTP error status (with the Hub's X-Error-Code when present) to a DownloadError. */
export function httpError(status: number, headers: IncomingHttpHeaders, url: URL, what: string): DownloadError {
  const hubCode = header(headers, 'x-error-code');
  const hubMessage = header(headers, 'x-error-message');
  const detail = hubMessage ? ` The server says: ${hubMessage}` : '';
  const opts = { url: url.href, status };
  if (hubCode === 'RepoNotFound') {
    return new DownloadError('MODEL_NOT_FOUND', 'not-found', `${what}: the repository does not exist (or is private).${detail}`, opts);
  }
  if (hubCode === 'RevisionNotFound') {
    return new DownloadError('MODEL_NOT_FOUND', 'not-found', `${what}: no such revision (branch, tag or commit).${detail}`, opts);
  }
  if (hubCode === 'GatedRepo' || status === 401 || status === 403) {
    return new DownloadError(
      'DOWNLOAD_FAILED',
      'gated',
      `${what}: access denied (HTTP ${status}). The repository is gated or private: accept its conditions on ` +
        `the Hub and pass an access token, or choose another model.${detail}`,
      opts,
    );
  }
  if (status === 404) {
    return new DownloadError('MODEL_NOT_FOUND', 'not-found', `${what}: not found (HTTP 404).${detail}`, opts);
  }
  if (status === 429) {
    return new DownloadError('DOWNLOAD_FAILED', 'http', `${what}: rate limited by the server (HTTP 429); try again later.`, opts);
  }
  return new DownloadError('DOWNLOAD_FAILED', 'http', `${what}: the server answered HTTP ${status}.${detail}`, opts);
}

function once(url: URL, options: GetOptions, sendToken: boolean): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      'user-agent': USER_AGENT,
      'accept-encoding': 'identity', // sizes and hashes are of the stored bytes
      ...options.headers,
    };
    if (sendToken && options.token) {
      headers.authorization = `Bearer ${options.token}`;
    }
    const client = url.protocol === 'https:' ? https : http;
    const request = client.get(url, { headers, signal: options.signal });
    let response: IncomingMessage | undefined;
    const timedOut = (): Error => Object.assign(new Error(`no data for ${options.timeoutMs} ms`), { code: 'ETIMEDOUT' });
    request.setTimeout(options.timeoutMs, () => {
      const error = timedOut();
      response?.destroy(error);
      request.destroy(error);
    });
    // the idle timeout restarts with every byte: headers sent a byte at a time get one deadline in all
    const headersDue = setTimeout(() => request.destroy(timedOut()), options.timeoutMs);
    headersDue.unref();
    request.once('close', () => clearTimeout(headersDue));
    request.once('response', (res) => {
      clearTimeout(headersDue);
      response = res;
      resolve(res);
    });
    request.once('error', (error) => {
      if (!response) {
        reject(error);
      }
    });
  });
}

/**
 * GET `url`, following up to MAX_REDIRECTS redirects (relative or absolute, each checked by
 * checkUrlAllowed). Resolves with the final response whatever its status; rejects with a
 * DownloadError for network failures, unsafe redirects and redirect loops.
 */
export async function httpGet(url: URL, options: GetOptions): Promise<GetResponse> {
  const hub: HubFileHeaders = {};
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    checkUrlAllowed(current);
    if (options.signal?.aborted) {
      throw downloadCancelled();
    }
    let response: IncomingMessage;
    try {
      response = await once(current, options, current.origin === url.origin);
    } catch (error) {
      throw networkError(error, current, options.signal);
    }
    collectHubHeaders(hub, response.headers, hop === 0);
    const status = response.statusCode ?? 0;
    const location = header(response.headers, 'location');
    if (!REDIRECTS.has(status) || !location) {
      return { status, headers: response.headers, body: response, url: current, hub };
    }
    response.resume(); // drain the redirect's body so the socket can be reused
    try {
      current = new URL(location, current);
    } catch {
      throw new DownloadError('DOWNLOAD_FAILED', 'http', `Bad redirect from ${current.host}: "${location}".`, {
        url: current.href,
        status,
      });
    }
  }
  throw new DownloadError('DOWNLOAD_FAILED', 'http', `Too many redirects (more than ${MAX_REDIRECTS}) for ${url.href}.`, {
    url: url.href,
  });
}

/** GET and parse a JSON body of at most `maxBytes`; no `json` for a non-2xx answer or a body that is not JSON. */
export async function httpGetJson(
  url: URL,
  options: GetOptions,
  maxBytes = 32 * 1024 * 1024,
): Promise<{ status: number; headers: IncomingHttpHeaders; json?: unknown }> {
  const response = await httpGet(url, { ...options, headers: { accept: 'application/json', ...options.headers } });
  if (response.status < 200 || response.status >= 300) {
    response.body.resume();
    return { status: response.status, headers: response.headers };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const stall = watchForStall(
    options.timeoutMs,
    () => size,
    () => undefined,
    (bytes) => response.body.destroy(stalledError(`The listing from ${url.host}`, bytes, options.timeoutMs, url)),
  );
  try {
    for await (const chunk of response.body) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) {
        response.body.destroy();
        throw new DownloadError('DOWNLOAD_FAILED', 'too-large', `The listing from ${url.host} is larger than ${maxBytes} bytes.`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    throw networkError(error, response.url, options.signal);
  } finally {
    stall.stop();
  }
  try {
    return { status: response.status, headers: response.headers, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch {
    return { status: response.status, headers: response.headers }; // not JSON: treated like "no API here"
  }
}
