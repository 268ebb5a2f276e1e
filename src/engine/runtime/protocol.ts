/**
 * The typed request/reply protocol between `EngineClient` (host) and the engine worker.
 *
 *   host -> worker   { id, method, params }   a request
 *                    { id, cancel: true }      stop request `id` at its next checkpoint
 *   worker -> host   { id, result }            success
 *                    { id, error: { code, message } }
 *                    { id, progress }          a partial result (streamed tokens), any number before the reply
 *
 * Types only: imported by both sides, no Node or ORT import here. The protocol knows no method: the engine's
 * methods are the registry's (`../methods.ts`), a test worker's its own table.
 */
import type { SerializedError } from '../errors';

/**
 * A method table: each method's params and result, and optionally the type of the progress messages it
 * streams before its reply. All must survive structured clone.
 */
export type MethodMap<M> = { [K in keyof M]: { params: unknown; result: unknown; progress?: unknown } };

export type MethodName<M> = keyof M & string;
export type ParamsOf<M extends MethodMap<M>, K extends keyof M> = M[K]['params'];
export type ResultOf<M extends MethodMap<M>, K extends keyof M> = M[K]['result'];
/** What method K streams before its reply (`never` for a method that streams nothing). */
export type ProgressOf<M extends MethodMap<M>, K extends keyof M> = M[K] extends { progress: infer P } ? P : never;

export interface RequestMessage {
  id: number;
  method: string;
  params: unknown;
}

export interface CancelMessage {
  id: number;
  cancel: true;
}

export type ToWorker = RequestMessage | CancelMessage;

export type ReplyMessage =
  | { id: number; result: unknown }
  | { id: number; error: SerializedError }
  | { id: number; progress: unknown };

/** Sent once as `workerData`. */
export interface WorkerOptions {
  /** ONNX Runtime intra-op threads (1 or 2: the extension shares the machine with everything else). */
  threads?: number;
  /** Where graphs rewritten to expose attentions / hidden states are cached (see runtime/exposed.ts). */
  cacheDir?: string;
}
