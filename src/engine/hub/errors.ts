/**
 * Download failures: a `LensError` (so the CLI and the extension handle them like every engine error)
 * with a finer `reason` for code that wants to react (retry, ask for a token, say "offline").
 */
import type { ErrorCode } from '../api';
import { LensError } from '../errors';

export type DownloadFailure =
  /** Invalid repo id, revision, file path, id or endpoint. */
  | 'bad-request'
  /** A URL that is neither https nor http to this machine (loopback). */
  | 'unsafe-url'
  /** Name resolution failed, connection refused, network unreachable, TLS failure. */
  | 'offline'
  | 'timeout'
  /** The connection dropped mid-transfer: the partial file is kept for resuming. */
  | 'connection-lost'
  /** HTTP 401/403: a gated or private repository. */
  | 'gated'
  /** HTTP 404 for the repository, the revision or a required file. */
  | 'not-found'
  /** Any other HTTP error. */
  | 'http'
  /** Size or checksum mismatch: the partial file is deleted. */
  | 'integrity'
  /** Not the file asked for (an HTML error page, compressed bytes, an .onnx or .json that does not parse): deleted. */
  | 'bad-content'
  /** Over the size cap (`maxBytes`). */
  | 'too-large'
  | 'cancelled'
  /** Another download into the same folder is running. */
  | 'busy';

export class DownloadError extends LensError {
  readonly url?: string;
  readonly status?: number;

  constructor(
    code: ErrorCode,
    readonly reason: DownloadFailure,
    message: string,
    options: { url?: string; status?: number; cause?: unknown } = {},
  ) {
    super(code, message, { cause: options.cause });
    this.url = options.url;
    this.status = options.status;
  }

  /** Worth another attempt in a moment (the partial file, if any, is resumed). */
  get retryable(): boolean {
    return (
      this.reason === 'timeout' ||
      this.reason === 'connection-lost' ||
      (this.reason === 'http' && this.status !== undefined && (this.status >= 500 || this.status === 429))
    );
  }
}

export const badRequest = (message: string): DownloadError => new DownloadError('BAD_INPUT', 'bad-request', message);

export const downloadCancelled = (): DownloadError =>
  new DownloadError('CANCELLED', 'cancelled', 'The download was cancelled. Run it again to resume where it stopped.');
