/**
 * What a worker-side operation is given: its request's context (cancellation, progress) and the worker's services
 * (sessions, configs). A leaf: the operations import it, and the protocol and server import the operations' types,
 * without a cycle.
 */
import type { ModelInfo } from '../api';
import type { ModelSession, SessionOptions } from './session';

export interface RequestContext<G = never> {
  /** Aborted when the host cancels this request. */
  readonly signal: AbortSignal;
  /** Lets pending messages (a cancel) arrive, then throws CANCELLED if this request was cancelled. */
  checkpoint(): Promise<void>;
  /** Sends a partial result (streamed tokens, ...) to the caller ahead of the reply; dropped after a cancel. */
  progress(value: G): void;
}

/** What the worker gives model code: memoised sessions and configs. */
export interface WorkerServices {
  /** `options.expose`: a session that also outputs attentions / hidden states (the graph rewritten if need be). */
  session(model: ModelInfo, options?: SessionOptions): Promise<ModelSession>;
  config(model: ModelInfo): Promise<Record<string, unknown>>;
}
