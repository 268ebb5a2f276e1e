/**
 * The typed request/reply protocol between `EngineClient` (host) and the engine worker.
 *
 *   host -> worker   { id, method, params }   a request
 *                    { id, cancel: true }      stop request `id` at its next checkpoint
 *   worker -> host   { id, result }            success
 *                    { id, error: { code, message } }
 *
 * Types only: imported by both sides, no Node or ORT import here.
 */
import type { EmbedResult, ModelInfo } from '../api';
import type { SerializedError } from '../errors';

/** A method table: each method's params and result. Both must survive structured clone. */
export type MethodMap<M> = { [K in keyof M]: { params: unknown; result: unknown } };

export type MethodName<M> = keyof M & string;
export type ParamsOf<M extends MethodMap<M>, K extends keyof M> = M[K]['params'];
export type ResultOf<M extends MethodMap<M>, K extends keyof M> = M[K]['result'];

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

export type ReplyMessage = { id: number; result: unknown } | { id: number; error: SerializedError };

/** Sent once as `workerData`. */
export interface WorkerOptions {
  /** ONNX Runtime intra-op threads (1 or 2: the extension shares the machine with everything else). */
  threads?: number;
}

/** `embed`: the host has already resolved the model and checked the request. */
export interface EmbedParams {
  model: ModelInfo;
  text: string;
  word: string;
  occurrence: number;
}

/** The production worker's methods. Add a method here, in the worker's handler table and in `Engine`. */
export interface EngineMethods {
  embed: { params: EmbedParams; result: EmbedResult };
}
