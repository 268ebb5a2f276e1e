/**
 * The host side of the protocol: `EngineClient` starts the engine worker on the first request, matches
 * replies to requests by id, turns an AbortSignal into a cancel message, and survives a worker crash
 * (pending requests fail with WORKER_CRASHED; the next request starts a fresh worker).
 *
 * A cancelled request stops at the worker's next checkpoint, but a `session.run` cannot be interrupted: a
 * worker inside a long run would make every later request (the next hover) wait for a result nobody wants.
 * So a worker that is still inside a cancelled request `retireAfterMs` after the cancel is retired: its
 * queued requests move to a fresh worker, which serves from then on, and the old one is terminated once it
 * has left the run (never before: see `draining`). At most one worker is retiring at a time, so a user who
 * cancels several slow runs in a row never has more than two copies of the models loaded; a serving worker that
 * got stuck meanwhile retires when the other has stopped.
 *
 * A fresh worker starts cold (ONNX Runtime, sessions, data), so on a loaded machine its first hover can itself
 * outlast the cancel that the next mouse move sends; retired at once every time, the hover never came (the e2e
 * suite beside two trainings, 2026-12-07: eleven workers in 51 s, each retired inside its first run). So each
 * retirement with no request answered since the one before doubles the wait (up to 32x `retireAfterMs`); the
 * first answer a worker delivers sets it back.
 */
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { LensError, cancelled, deserializeError } from '../errors';
import type { MethodMap, MethodName, ProgressOf, ReplyMessage, ToWorker } from './protocol';

export interface EngineClientOptions {
  /** The worker's bundled entry file (dist/worker.js in production). */
  workerPath: string;
  /** Passed to the worker as `workerData` (for the engine worker: `WorkerOptions`). */
  workerData?: unknown;
  /** Where to report worker crashes and restarts (an output channel, stderr, ...). */
  log?: (message: string) => void;
  /**
   * How long a worker may stay inside a cancelled request before a fresh worker takes over (default 500 ms:
   * far longer than one step of the shipped models, far shorter than a user waits for a hover).
   */
  retireAfterMs?: number;
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

/** The wait before a stuck worker retires doubles at most this many times (500 ms -> 16 s by default). */
const MAX_RETIRE_DOUBLINGS = 5;

/** One worker thread and the requests it holds. */
interface Lane {
  readonly worker: Worker;
  /** Requests sent to this worker that are still wanted. */
  readonly live: Set<number>;
  /**
   * Cancelled requests this worker has not answered yet: it is still inside them, perhaps in a session.run.
   * Terminating a worker inside a run aborts the whole process when the run returns (onnxruntime-node 1.30:
   * "terminate called after throwing an instance of 'Napi::Error'", or "FATAL ERROR: Error::Error
   * napi_define_properties"), so a worker is terminated only once this is empty, however long that takes.
   * Each with the time of its cancel.
   */
  readonly draining: Map<number, number>;
  /** No longer serving: terminated once `draining` is empty. */
  retired: boolean;
}

/** A request that is still wanted. Its id and lane change when it moves to a fresh worker. */
interface Call {
  id: number;
  lane: Lane;
  readonly message: Omit<Extract<ToWorker, { method: string }>, 'id'>;
  resolve(result: unknown): void;
  progress?: ((value: unknown) => void) | undefined;
  reject(error: LensError): void;
  /** Removes the abort listener. */
  detach(): void;
}

export class EngineClient<M extends MethodMap<M>> {
  /** The lane new requests go to; undefined until the first request, after a crash or a retirement. */
  private current: Lane | undefined;
  private readonly lanes = new Set<Lane>();
  private nextId = 1;
  private readonly calls = new Map<number, Call>();
  private drainWaiters: (() => void)[] = [];
  private disposed = false;
  /** Retirements since a worker last answered a request that was still wanted: each doubles the next wait. */
  private retiredWithoutAnswer = 0;

  constructor(private readonly options: EngineClientOptions) {}

  /** Whether a worker is serving now (it starts on the first request). */
  get started(): boolean {
    return this.current !== undefined;
  }

  /** How long a worker may stay inside a cancelled request now (doubling while retirements answer nothing). */
  private get retireAfterMs(): number {
    return (this.options.retireAfterMs ?? 500) * 2 ** Math.min(this.retiredWithoutAnswer, MAX_RETIRE_DOUBLINGS);
  }

  /** Worker threads alive now: the serving one, and one still inside a cancelled run. */
  get workerCount(): number {
    return this.lanes.size;
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
      let lane: Lane;
      try {
        lane = this.ensureLane();
      } catch (error) {
        reject(new LensError('WORKER_CRASHED', `The engine worker could not start: ${String(error)}`));
        return;
      }
      const onAbort = (): void => this.cancel(call);
      const call: Call = {
        id: 0,
        lane,
        message: { method, params } as Call['message'],
        resolve: resolve as (result: unknown) => void,
        progress: onProgress as ((value: unknown) => void) | undefined,
        reject,
        detach: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        this.send(call, lane);
      } catch (error) {
        this.settle(call);
        reject(new LensError('INTERNAL', `Could not send "${method}" to the engine worker: ${String(error)}`));
      }
    });
  }

  /**
   * Stops every worker; pending requests fail with CANCELLED at once. The workers are told to cancel them and
   * are terminated once they have left them (at their next checkpoint) — never before: a `session.run` cannot
   * be interrupted, and terminating a worker while ONNX Runtime is inside one kills the whole process (the
   * extension host, the CLI) when the run returns. So this resolves after the current step, however long it
   * takes (every handler replies, even when cancelled); after `slowMs` it logs that it is still waiting.
   */
  async dispose(slowMs = 5000): Promise<void> {
    this.disposed = true;
    const calls = [...this.calls.values()];
    for (const call of calls) this.abandon(call);
    for (const call of calls) call.reject(new LensError('CANCELLED', 'The engine has been shut down.'));
    this.current = undefined;
    if (this.lanes.size === 0) return;
    const slow = setTimeout(() => {
      this.options.log?.('Shutting down: waiting for the engine worker to finish its current step (ONNX Runtime cannot stop a run midway).');
    }, slowMs).unref();
    await this.drained();
    clearTimeout(slow);
    const lanes = [...this.lanes];
    this.lanes.clear();
    await Promise.all(lanes.map((lane) => lane.worker.terminate()));
  }

  /** Posts `call` to `lane` under a fresh id. */
  private send(call: Call, lane: Lane): void {
    call.id = this.nextId++;
    call.lane = lane;
    this.calls.set(call.id, call);
    lane.live.add(call.id);
    this.updateRef(lane);
    lane.worker.postMessage({ id: call.id, ...call.message } as ToWorker);
  }

  /** The signal aborted: reject at once; the worker stops at its next checkpoint, or gets retired. */
  private cancel(call: Call): void {
    if (this.calls.get(call.id) !== call) return;
    const { lane, id } = call;
    this.abandon(call);
    call.reject(cancelled());
    setTimeout(() => {
      if (lane.draining.has(id)) this.retire(lane);
    }, this.retireAfterMs).unref();
  }

  /** Forgets `call` and tells its worker to stop it; the worker's late answer is awaited, then dropped. */
  private abandon(call: Call): void {
    const { lane, id } = call;
    this.settle(call);
    this.drain(lane, id);
  }

  /** Tells `lane`'s worker to stop request `id`, which it is left to drain (it is no longer anybody's call). */
  private drain(lane: Lane, id: number): void {
    lane.draining.set(id, performance.now());
    this.updateRef(lane);
    this.post(lane.worker, { id, cancel: true });
  }

  /**
   * `lane`'s worker is stuck inside a cancelled request: a fresh worker takes its queued requests and the new
   * ones; this one is terminated when it has left its cancelled runs. Not while another worker is retiring.
   */
  private retire(lane: Lane): void {
    if (lane.retired || this.disposed || lane !== this.current) return;
    if ([...this.lanes].some((other) => other.retired)) return;
    lane.retired = true;
    this.current = undefined;
    this.retiredWithoutAnswer++;
    const queued = [...lane.live].map((id) => this.calls.get(id)!);
    this.options.log?.(
      `The engine worker is still inside a cancelled model run; a fresh worker serves from now on${queued.length ? ` (${queued.length} queued request(s) moved to it)` : ''}.`,
    );
    let fresh: Lane | undefined;
    for (const call of queued) {
      lane.live.delete(call.id);
      this.calls.delete(call.id);
      this.drain(lane, call.id);
      try {
        fresh ??= this.ensureLane();
        this.send(call, fresh);
      } catch (error) {
        this.settle(call);
        call.reject(new LensError('WORKER_CRASHED', `The engine worker could not start: ${String(error)}`));
      }
    }
  }

  private get draining(): boolean {
    return [...this.lanes].some((lane) => lane.draining.size > 0);
  }

  /** Resolves when every worker has answered every cancelled request (or has died). */
  private drained(): Promise<void> {
    if (!this.draining) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private wakeDrainWaiters(): void {
    if (this.draining) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const done of waiters) done();
  }

  /** Request `id` has been answered (late) or its worker died: the worker has left it. */
  private forget(id: number): void {
    const lane = [...this.lanes].find((l) => l.draining.has(id));
    if (!lane) return;
    lane.draining.delete(id);
    this.updateRef(lane);
    if (lane.retired && lane.draining.size === 0 && lane.live.size === 0 && !this.disposed) {
      this.lanes.delete(lane);
      this.options.log?.('The retired engine worker has left its cancelled run and stopped.');
      void lane.worker.terminate();
      // the serving worker may have got stuck meanwhile, when it could not retire
      const current = this.current;
      const stuckSince = current ? Math.min(...current.draining.values()) : Infinity;
      if (current && performance.now() - stuckSince >= this.retireAfterMs) this.retire(current);
    }
    this.wakeDrainWaiters();
  }

  private ensureLane(): Lane {
    if (this.current) return this.current;
    disableOrtTelemetry();
    const worker = new Worker(this.options.workerPath, {
      workerData: this.options.workerData,
      resourceLimits: { stackSizeMb: workerStackMb() },
    });
    const lane: Lane = { worker, live: new Set(), draining: new Map(), retired: false };
    worker.on('message', (message: ReplyMessage) => this.onReply(message));
    worker.on('error', (error) => this.onCrash(lane, `it threw ${error.name}: ${error.message}`));
    worker.on('exit', (code) => this.onCrash(lane, `it exited with code ${code}`));
    this.lanes.add(lane);
    this.current = lane;
    return lane;
  }

  private onReply(message: ReplyMessage): void {
    const call = this.calls.get(message.id);
    if (!call) {
      // cancelled: the reply came too late (and the worker has left the request)
      if (!('progress' in message)) this.forget(message.id);
      return;
    }
    if ('progress' in message) {
      try {
        call.progress?.(message.progress);
      } catch (error) {
        this.options.log?.(`A progress listener threw: ${String(error)}`);
      }
      return;
    }
    this.settle(call);
    this.retiredWithoutAnswer = 0;
    if ('error' in message) call.reject(deserializeError(message.error));
    else call.resolve(message.result);
  }

  private onCrash(lane: Lane, reason: string): void {
    if (!this.lanes.delete(lane)) return; // one we terminated on purpose
    if (this.current === lane) this.current = undefined;
    void lane.worker.terminate(); // after 'error' it is exiting anyway; make sure
    lane.draining.clear(); // a dead worker is inside nothing
    this.wakeDrainWaiters();
    const failed = [...lane.live].map((id) => this.calls.get(id)!);
    for (const call of failed) this.settle(call);
    if (lane.retired && failed.length === 0) return; // it only held runs nobody wants
    this.options.log?.(`Engine worker stopped: ${reason}. ${failed.length} request(s) failed; it restarts on the next request.`);
    const error = new LensError('WORKER_CRASHED', `The engine worker stopped (${reason}); it restarts on the next request.`);
    for (const call of failed) call.reject(error);
  }

  /** Forgets `call` (its listener, its place in its lane). */
  private settle(call: Call): void {
    call.detach();
    this.calls.delete(call.id);
    call.lane.live.delete(call.id);
    this.updateRef(call.lane);
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
  private updateRef(lane: Lane): void {
    if (!this.lanes.has(lane)) return;
    if (lane.live.size > 0 || lane.draining.size > 0) lane.worker.ref();
    else lane.worker.unref();
  }
}
