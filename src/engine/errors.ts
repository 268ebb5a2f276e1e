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

const ERROR_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'MODEL_NOT_FOUND',
  'MODEL_CORRUPT',
  'INPUT_TOO_LONG',
  'BAD_INPUT',
  'CANCELLED',
  'WORKER_CRASHED',
  'INTERNAL',
]);

/** Codes caused by what the user asked for (fix the input or the model folder), not by a bug. */
const INPUT_ERROR_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'BAD_INPUT',
  'MODEL_NOT_FOUND',
  'MODEL_CORRUPT',
  'INPUT_TOO_LONG',
]);

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
  return typeof value === 'string' && ERROR_CODES.has(value);
}

export function isLensError(value: unknown): value is LensError {
  return value instanceof LensError;
}

/** True for errors the user can fix (bad input, missing or broken model): show them, don't report a bug. */
export function isInputError(code: ErrorCode): boolean {
  return INPUT_ERROR_CODES.has(code);
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
