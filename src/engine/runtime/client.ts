/**
 * The host side of the protocol: `EngineClient` starts the engine worker on the first request, matches
 * replies to requests by id, turns an AbortSignal into a cancel message, and survives a worker crash
 * (pending requests fail with WORKER_CRASHED; the next request starts a fresh worker).
 */
import { Worker } from 'node:worker_threads';
import { LensError, cancelled, deserializeError } from '../errors';
import type { EngineMethods, MethodMap, MethodName, ProgressOf, ReplyMessage, ToWorker } from './protocol';

export interface EngineClientOptions {
  /** The worker's bundled entry file (dist/worker.js in production). */
  workerPath: string;
  /** Passed to the worker as `workerData` (for the engine worker: `WorkerOptions`). */
  workerData?: unknown;
  /** Where to report worker crashes and restarts (an output channel, stderr, ...). */
  log?: (message: string) => void;
}

/**
 * ONNX Runtime (1.30, Linux) writes a device id and an event database under
 * `$XDG_CACHE_HOME/Microsoft/DeveloperTools/.onnxruntime` (default ~/.cache/...) whenever it starts, unless
 * ORT_DISABLE_TELEMETRY=1 is in the process's environment. The native library reads the real environment, which a
 * worker thread cannot change (its `process.env` is a copy), so it is set here, on the host, before the worker
 * loads ONNX Runtime. A value the user set is kept. (In VS Code this sets it for the extension host, whose other
 * ONNX Runtime users then send nothing either.)
 */
export function disableOrtTelemetry(env: NodeJS.ProcessEnv = process.env): void {
  env['ORT_DISABLE_TELEMETRY'] ??= '1';
}

interface Pending {
  resolve(result: unknown): void;
  progress?: ((value: unknown) => void) | undefined;
  reject(error: LensError): void;
  /** Removes the abort listener. */
  detach(): void;
}

/**
 * The worker's stack size. onnxruntime-node 1.30, creating its first session in a worker thread, recurses
 * about twice per byte of the process's command line (seen in gdb: thousands of frames inside
 * libonnxruntime); with a worker's default 4 MB stack the whole process dies with SIGSEGV once the
 * command line passes ~15 kB, e.g. `lm-lens complete --text "<3,000 tokens>"`. So: 512 bytes of stack per
 * byte of command line, on top of the default.
 */
export function workerStackMb(args: readonly string[] = [...process.execArgv, ...process.argv]): number {
  const bytes = args.reduce((n, arg) => n + Buffer.byteLength(arg) + 1, 0);
  return Math.min(1024, 4 + Math.ceil((bytes * 512) / 2 ** 20));
}

export class EngineClient<M extends MethodMap<M> = EngineMethods> {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /**
   * Cancelled requests the worker has not answered yet: it is still inside them, perhaps in a session.run.
   * Terminating a worker inside a run aborts the whole process when the run returns (onnxruntime-node 1.30:
   * "terminate called after throwing an instance of 'Napi::Error'", or "FATAL ERROR: Error::Error
   * napi_define_properties"), so `dispose` waits for these first, however long that takes.
   */
  private readonly draining = new Set<number>();
  private drainWaiters: (() => void)[] = [];
  private disposed = false;

  constructor(private readonly options: EngineClientOptions) {}

  /** Whether a worker is running now (it starts on the first request). */
  get started(): boolean {
    return this.worker !== undefined;
  }

  /**
   * Calls `method` in the worker. Rejects with a `LensError`: the worker's own error, CANCELLED at once when
   * `signal` aborts (a late reply is dropped), or WORKER_CRASHED when the worker dies first. `onProgress`
   * receives the method's progress messages (streamed tokens, ...) until the reply or the cancel.
   */
  request<K extends MethodName<M>>(
    method: K,
    params: M[K]['params'],
    signal?: AbortSignal,
    onProgress?: (progress: ProgressOf<M, K>) => void,
  ): Promise<M[K]['result']> {
    if (this.disposed) return Promise.reject(new LensError('CANCELLED', 'The engine has been shut down.'));
    if (signal?.aborted) return Promise.reject(cancelled());
    return new Promise<M[K]['result']>((resolve, reject) => {
      let worker: Worker;
      try {
        worker = this.ensureWorker();
      } catch (error) {
        reject(new LensError('WORKER_CRASHED', `The engine worker could not start: ${String(error)}`));
        return;
      }
      const id = this.nextId++;
      const onAbort = (): void => {
        if (!this.settle(id)) return;
        this.draining.add(id);
        this.updateRef();
        this.post(worker, { id, cancel: true });
        reject(cancelled());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: resolve as (result: unknown) => void,
        progress: onProgress as ((value: unknown) => void) | undefined,
        reject,
        detach: () => signal?.removeEventListener('abort', onAbort),
      });
      this.updateRef();
      try {
        worker.postMessage({ id, method, params } satisfies ToWorker);
      } catch (error) {
        this.settle(id);
        reject(new LensError('INTERNAL', `Could not send "${method}" to the engine worker: ${String(error)}`));
      }
    });
  }

  /**
   * Stops the worker; pending requests fail with CANCELLED at once. The worker is told to cancel them and is
   * terminated once it has left them (at their next checkpoint) — never before: a `session.run` cannot be
   * interrupted, and terminating the worker while ONNX Runtime is inside one kills the whole process (the
   * extension host, the CLI) when the run returns. So this resolves after the current step, however long it
   * takes (every handler replies, even when cancelled); after `slowMs` it logs that it is still waiting.
   */
  async dispose(slowMs = 5000): Promise<void> {
    this.disposed = true;
    const worker = this.worker;
    if (worker) {
      for (const id of this.pending.keys()) {
        this.draining.add(id);
        this.post(worker, { id, cancel: true });
      }
    }
    this.rejectAll(new LensError('CANCELLED', 'The engine has been shut down.'));
    if (!worker) return;
    this.updateRef();
    const slow = setTimeout(() => {
      this.options.log?.('Shutting down: waiting for the engine worker to finish its current step (ONNX Runtime cannot stop a run midway).');
    }, slowMs).unref();
    await this.drained();
    clearTimeout(slow);
    this.worker = undefined;
    await worker.terminate();
  }

  /** Resolves when the worker has answered every cancelled request (or has died). */
  private drained(): Promise<void> {
    if (this.draining.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private forget(id: number): void {
    if (!this.draining.delete(id)) return;
    this.updateRef();
    if (this.draining.size > 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const done of waiters) done();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    disableOrtTelemetry();
    const worker = new Worker(this.options.workerPath, {
      workerData: this.options.workerData,
      resourceLimits: { stackSizeMb: workerStackMb() },
    });
    worker.on('message', (message: ReplyMessage) => this.onReply(message));
    worker.on('error', (error) => this.onCrash(worker, `it threw ${error.name}: ${error.message}`));
    worker.on('exit', (code) => this.onCrash(worker, `it exited with code ${code}`));
    this.worker = worker;
    return worker;
  }

  private onReply(message: ReplyMessage): void {
    const pending = this.pending.get(message.id);
    if (!pending) {
      // cancelled: the reply came too late (and the worker has left the request)
      if (!('progress' in message)) this.forget(message.id);
      return;
    }
    if ('progress' in message) {
      try {
        pending.progress?.(message.progress);
      } catch (error) {
        this.options.log?.(`A progress listener threw: ${String(error)}`);
      }
      return;
    }
    this.settle(message.id);
    if ('error' in message) pending.reject(deserializeError(message.error));
    else pending.resolve(message.result);
  }

  private onCrash(worker: Worker, reason: string): void {
    if (this.worker !== worker) return; // an old worker, or one we terminated on purpose
    this.worker = undefined;
    void worker.terminate(); // after 'error' it is exiting anyway; make sure
    for (const id of [...this.draining]) this.forget(id);
    const count = this.pending.size;
    this.options.log?.(`Engine worker stopped: ${reason}. ${count} request(s) failed; it restarts on the next request.`);
    this.rejectAll(new LensError('WORKER_CRASHED', `The engine worker stopped (${reason}); it restarts on the next request.`));
  }

  /** Forgets request `id`; false when it was already settled. */
  private settle(id: number): boolean {
    const pending = this.pending.get(id);
    if (!pending) return false;
    pending.detach();
    this.pending.delete(id);
    this.updateRef();
    return true;
  }

  private rejectAll(error: LensError): void {
    const all = [...this.pending.values()];
    for (const pending of all) pending.detach();
    this.pending.clear();
    for (const pending of all) pending.reject(error);
  }

  private post(worker: Worker, message: ToWorker): void {
    try {
      worker.postMessage(message);
    } catch {
      // The worker is gone; its 'exit' handler reports that.
    }
  }

  /**
   * An idle worker must not keep a CLI process (or a test run) alive; one still inside a cancelled request
   * must, since a process that exits while the worker is inside a session.run aborts.
   */
  private updateRef(): void {
    if (!this.worker) return;
    if (this.pending.size > 0 || this.draining.size > 0) this.worker.ref();
    else this.worker.unref();
  }
}
