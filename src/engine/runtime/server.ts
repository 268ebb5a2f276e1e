/**
 * The worker side of the protocol: a table of method handlers served over `parentPort`.
 * Handlers run one step at a time and call `ctx.checkpoint()` between steps (between sentences, between
 * generated tokens): a run in progress cannot be aborted, so that is where a cancel takes effect.
 */
import { parentPort, type MessagePort } from 'node:worker_threads';
import { LensError, cancelled, serializeError } from '../errors';
import type { RequestContext } from './context';
import type { MethodMap, ProgressOf, ReplyMessage, ToWorker } from './protocol';
import { transferListOf } from './transfer';

export type Handler<P, R, G = never> = (params: P, ctx: RequestContext<G>) => Promise<R>;

export type Handlers<M extends MethodMap<M>> = {
  [K in keyof M]: Handler<M[K]['params'], M[K]['result'], ProgressOf<M, K>>;
};

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Serves `handlers` to the thread that started this worker. Call once, from the worker's entry file. */
export function serve<M extends MethodMap<M>>(handlers: Handlers<M>, port: MessagePort | null = parentPort): void {
  if (!port) throw new Error('serve() must run inside a worker thread');
  const running = new Map<number, AbortController>();
  const table = handlers as Record<string, Handler<unknown, unknown, unknown> | undefined>;

  const reply = (message: ReplyMessage, transfer: readonly ArrayBuffer[] = []): void => {
    try {
      port.postMessage(message, transfer);
    } catch (error) {
      // A buffer that cannot move: send a copy. Else most likely a result that cannot be cloned: report it
      // instead of leaving the host waiting.
      if (transfer.length > 0) return reply(message);
      port.postMessage({ id: message.id, error: serializeError(error) } satisfies ReplyMessage);
    }
  };

  const handle = async (id: number, method: string, params: unknown): Promise<void> => {
    const controller = new AbortController();
    running.set(id, controller);
    const ctx: RequestContext<unknown> = {
      signal: controller.signal,
      async checkpoint() {
        await nextTurn();
        if (controller.signal.aborted) throw cancelled();
      },
      progress(value) {
        if (!controller.signal.aborted) reply({ id, progress: value });
      },
    };
    try {
      const handler = Object.hasOwn(table, method) ? table[method] : undefined;
      if (!handler) throw new LensError('INTERNAL', `The engine worker has no method "${method}".`);
      const result = await handler(params, ctx);
      reply({ id, result }, transferListOf(result));
    } catch (error) {
      reply({ id, error: serializeError(error) });
    } finally {
      running.delete(id);
    }
  };

  port.on('message', (message: ToWorker) => {
    if ('cancel' in message) {
      running.get(message.id)?.abort();
      return;
    }
    void handle(message.id, message.method, message.params);
  });
}
