/**
 * The engine's one error type. Every failure that leaves the engine (to the CLI, the extension or across
 * the worker boundary) is a `LensError` with a stable `code`; messages are for people, codes for code.
 */
import type { ErrorCode } from './api';

/** What crosses the worker boundary (structured clone drops an Error's class, so errors travel as data). */
export interface SerializedError {
  code: ErrorCode;
  message: string;
}

/**
 * Every error code, and whether it is caused by what the user asked for (fix the input or the model folder:
 * show it, exit 2) rather than by a bug or the environment. A code added to api.ts but missing here is a
 * type error in `isInputError`.
 */
const ERROR_CODE_INFO = {
  BAD_INPUT: { input: true },
  MODEL_NOT_FOUND: { input: true },
  MODEL_CORRUPT: { input: true },
  INPUT_TOO_LONG: { input: true },
  CANCELLED: { input: false },
  WORKER_CRASHED: { input: false },
  INTERNAL: { input: false },
  NETWORK: { input: false },
  DOWNLOAD_FAILED: { input: false },
} as const;

export class LensError extends Error {
  override readonly name = 'LensError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  toJSON(): SerializedError {
    return { code: this.code, message: this.message };
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODE_INFO, value);
}

export function isLensError(value: unknown): value is LensError {
  return value instanceof LensError;
}

/** True for errors the user can fix (bad input, missing or broken model): show them, don't report a bug. */
export function isInputError(code: ErrorCode): boolean {
  const info: { readonly input: boolean } = ERROR_CODE_INFO[code];
  return info.input;
}

/** Wraps anything thrown into a `LensError`; a `LensError` passes through unchanged. */
export function toLensError(error: unknown, fallback: ErrorCode = 'INTERNAL'): LensError {
  if (error instanceof LensError) return error;
  if (error instanceof Error) return new LensError(fallback, error.message || error.name, { cause: error });
  return new LensError(fallback, String(error));
}

export function serializeError(error: unknown): SerializedError {
  return toLensError(error).toJSON();
}

/** Rebuilds a `LensError` from data received over a message port; garbage becomes INTERNAL. */
export function deserializeError(data: unknown): LensError {
  if (typeof data === 'object' && data !== null) {
    const { code, message } = data as Record<string, unknown>;
    if (isErrorCode(code)) return new LensError(code, typeof message === 'string' ? message : code);
  }
  return new LensError('INTERNAL', `malformed error from the engine worker: ${JSON.stringify(data)}`);
}

export const badInput = (message: string): LensError => new LensError('BAD_INPUT', message);

export const modelCorrupt = (message: string, cause?: unknown): LensError =>
  new LensError('MODEL_CORRUPT', message, { cause });

export const cancelled = (): LensError => new LensError('CANCELLED', 'The request was cancelled.');
