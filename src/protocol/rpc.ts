/**
 * Request/reply and notifications over `postMessage`, shared by the extension host and the webviews (no
 * `vscode`, no DOM, no Node import here).
 *
 *   either side  { lmLens: 1, kind: 'request', id, method, params }   answered by exactly one reply:
 *                { lmLens: 1, kind: 'reply', id, result } or { ..., error: { code, message } }
 *                { lmLens: 1, kind: 'notify', method, params }        no answer
 *   webview      { lmLens: 1, kind: 'ready' }                          first, and again after every reload
 *
 * Messages are typed by `RequestType<P, R>` / `NotificationType<P>` constants declared once (see
 * attention.ts, layers.ts) and used by both sides. The host's endpoint queues what it sends until the
 * webview says it is ready; a webview that reloads says so again, and the host sends its state again.
 */

/** A request: its params `P` and its result `R`. The phantom field only carries the types. */
export interface RequestType<P, R> {
  readonly method: string;
  readonly _types?: (params: P) => R;
}

export interface NotificationType<P> {
  readonly method: string;
  readonly _types?: (params: P) => void;
}

export function requestType<P, R>(method: string): RequestType<P, R> {
  return { method };
}

export function notificationType<P>(method: string): NotificationType<P> {
  return { method };
}

export interface RpcErrorData {
  code: string;
  message: string;
}

/** A request that failed on the other side (or could not be delivered). */
export class RpcError extends Error {
  override readonly name = 'RpcError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type Envelope =
  | { lmLens: 1; kind: 'ready' }
  | { lmLens: 1; kind: 'request'; id: number; method: string; params: unknown }
  | { lmLens: 1; kind: 'reply'; id: number; result: unknown }
  | { lmLens: 1; kind: 'reply'; id: number; error: RpcErrorData }
  | { lmLens: 1; kind: 'notify'; method: string; params: unknown };

/** Checks the shape of anything received: a webview is another process and may be stale or broken. */
export function isEnvelope(value: unknown): value is Envelope {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  if (m['lmLens'] !== 1) return false;
  switch (m['kind']) {
    case 'ready':
      return true;
    case 'request':
      return Number.isInteger(m['id']) && typeof m['method'] === 'string';
    case 'reply': {
      if (!Number.isInteger(m['id'])) return false;
      if (!('error' in m)) return 'result' in m;
      const e = m['error'] as Record<string, unknown> | null;
      return typeof e === 'object' && e !== null && typeof e['code'] === 'string' && typeof e['message'] === 'string';
    }
    case 'notify':
      return typeof m['method'] === 'string';
    default:
      return false;
  }
}

export interface Disposable {
  dispose(): void;
}

type RequestHandler = (params: unknown) => unknown;
type NotificationHandler = (params: unknown) => void;

export interface EndpointOptions {
  /** Queue outgoing messages until the other side sends `ready` (the host side). */
  waitForReady?: boolean;
  /** Where to report handler failures and malformed messages. */
  log?: (message: string) => void;
}

/** What an error thrown by a handler becomes on the wire. */
export function toErrorData(error: unknown): RpcErrorData {
  if (typeof error === 'object' && error !== null) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    return { code: typeof code === 'string' ? code : 'INTERNAL', message: typeof message === 'string' ? message : String(error) };
  }
  return { code: 'INTERNAL', message: String(error) };
}

/** One side of the channel. `post` sends a message to the other side; feed what arrives to `receive`. */
export class Endpoint implements Disposable {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: RpcError): void }>();
  private readonly requestHandlers = new Map<string, RequestHandler>();
  private readonly notificationHandlers = new Map<string, NotificationHandler>();
  private readonly readyListeners = new Set<() => void>();
  private queue: Envelope[] | undefined;
  private disposed = false;

  constructor(
    private readonly post: (message: Envelope) => void,
    private readonly options: EndpointOptions = {},
  ) {
    if (options.waitForReady) this.queue = [];
  }

  /** True once the other side said `ready` (always true for an endpoint that does not wait). */
  get isReady(): boolean {
    return this.queue === undefined;
  }

  onRequest<P, R>(type: RequestType<P, R>, handler: (params: P) => R | Promise<R>): Disposable {
    this.requestHandlers.set(type.method, handler as RequestHandler);
    return { dispose: () => this.requestHandlers.delete(type.method) };
  }

  onNotification<P>(type: NotificationType<P>, handler: (params: P) => void): Disposable {
    this.notificationHandlers.set(type.method, handler as NotificationHandler);
    return { dispose: () => this.notificationHandlers.delete(type.method) };
  }

  /** Called each time the other side says `ready` (first load and every reload). */
  onReady(listener: () => void): Disposable {
    this.readyListeners.add(listener);
    return { dispose: () => this.readyListeners.delete(listener) };
  }

  sendRequest<P, R>(type: RequestType<P, R>, params: P): Promise<R> {
    if (this.disposed) return Promise.reject(new RpcError('DISPOSED', 'The view is closed.'));
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.send({ lmLens: 1, kind: 'request', id, method: type.method, params });
    });
  }

  sendNotification<P>(type: NotificationType<P>, params: P): void {
    if (this.disposed) return;
    this.send({ lmLens: 1, kind: 'notify', method: type.method, params });
  }

  /** The webview side: tell the host it can send. */
  sendReady(): void {
    this.post({ lmLens: 1, kind: 'ready' });
  }

  receive(message: unknown): void {
    if (this.disposed) return;
    if (!isEnvelope(message)) {
      this.options.log?.(`dropped a malformed message: ${safeJson(message)}`);
      return;
    }
    switch (message.kind) {
      case 'ready':
        // a second `ready` is a reloaded page: what the old page was asked will never be answered
        if (this.isReady && this.options.waitForReady) this.rejectPending('RELOADED', 'The view reloaded.');
        this.flush();
        for (const listener of [...this.readyListeners]) listener();
        return;
      case 'request':
        void this.answer(message.id, message.method, message.params);
        return;
      case 'reply': {
        const waiting = this.pending.get(message.id);
        if (!waiting) return; // a reply to a request of an earlier page load, or answered already
        this.pending.delete(message.id);
        if ('error' in message) waiting.reject(new RpcError(message.error.code, message.error.message));
        else waiting.resolve(message.result);
        return;
      }
      case 'notify': {
        const handler = this.notificationHandlers.get(message.method);
        if (!handler) {
          this.options.log?.(`no handler for notification "${message.method}"`);
          return;
        }
        try {
          handler(message.params);
        } catch (error) {
          this.options.log?.(`notification "${message.method}" failed: ${toErrorData(error).message}`);
        }
      }
    }
  }

  /** Rejects what is pending (the other side is gone) and stops sending. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.rejectPending('DISPOSED', 'The view is closed.');
    this.requestHandlers.clear();
    this.notificationHandlers.clear();
    this.readyListeners.clear();
    this.queue = undefined;
  }

  private rejectPending(code: string, message: string): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const w of waiting) w.reject(new RpcError(code, message));
  }

  private async answer(id: number, method: string, params: unknown): Promise<void> {
    const handler = this.requestHandlers.get(method);
    if (!handler) {
      this.send({ lmLens: 1, kind: 'reply', id, error: { code: 'NO_METHOD', message: `No handler for "${method}".` } });
      return;
    }
    try {
      const result = await handler(params);
      this.send({ lmLens: 1, kind: 'reply', id, result: result === undefined ? null : result });
    } catch (error) {
      this.send({ lmLens: 1, kind: 'reply', id, error: toErrorData(error) });
    }
  }

  private send(message: Envelope): void {
    if (this.disposed) return;
    if (this.queue) this.queue.push(message);
    else this.post(message);
  }

  private flush(): void {
    const queued = this.queue;
    this.queue = undefined;
    for (const message of queued ?? []) this.post(message);
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value)?.slice(0, 200) ?? String(value);
  } catch {
    return String(value);
  }
}
