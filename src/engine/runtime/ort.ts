/**
 * The ONE file that imports onnxruntime-node. Only the engine worker (engine/worker.ts) imports it: a
 * `session.run` is a synchronous native call that would freeze the extension host.
 * Sessions are memoised as promises per model file, loaded again when the file changes on disk (the old session's
 * native memory released once it is idle: V8 does not count that memory, so the collection that would free it may be
 * long in coming); a failed load is evicted so a retry can succeed.
 */
import * as ort from 'onnxruntime-node';
import { LensError, modelCorrupt, toLensError } from '../errors';
import { StampedCache } from '../fileStamp';
import type { HostTensor, ModelSession, TensorInfo } from './session';

export interface SessionSettings {
  /** Intra-op threads: 1 or 2 (the machine is shared). */
  threads: number;
}

/**
 * How long a session whose file was replaced on disk waits, once no run of it is in flight, before it releases its
 * native memory: a request that holds it between runs (a generation's next step) finishes within that.
 */
export const RETIRED_SESSION_GRACE_MS = 30_000;

const sessions = new StampedCache<OrtModelSession>(undefined, (old) => old.retire(RETIRED_SESSION_GRACE_MS));

/**
 * ONNX Runtime's own log goes to stderr, where the CLI prints only its JSON error (and progress): its warnings
 * ("Removing initializer ...") came before the error, and its error lines repeat what the thrown error says,
 * which every caller reports. So it logs only fatal errors. Read once, when the first session is created.
 */
ort.env.logLevel = 'fatal';
const LOG_SEVERITY_FATAL = 4;

/** The session for the ONNX file at `file`; MODEL_CORRUPT when ONNX Runtime cannot load it. */
export function loadSession(file: string, settings: SessionSettings): Promise<OrtModelSession> {
  return sessions.get(file, file, async () => {
    const threads = Math.min(Math.max(Math.round(settings.threads), 1), 2);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(file, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        logSeverityLevel: LOG_SEVERITY_FATAL,
      });
    } catch (error) {
      throw modelCorrupt(`ONNX Runtime could not load ${file}: ${toLensError(error).message}`, error);
    }
    return new OrtModelSession(file, session);
  });
}

export class OrtModelSession implements ModelSession {
  readonly inputInfo: readonly TensorInfo[];
  readonly outputInfo: readonly TensorInfo[];
  /** Runs in flight; a retired session is released only when none is. */
  private running = 0;
  private retiredGraceMs: number | undefined;
  private releaseTimer: NodeJS.Timeout | undefined;
  private released = false;

  constructor(
    private readonly file: string,
    private readonly session: ort.InferenceSession,
  ) {
    this.inputInfo = session.inputMetadata.map(tensorInfo);
    this.outputInfo = session.outputMetadata.map(tensorInfo);
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** Whether its native memory has been released (it was retired and left idle). */
  get isReleased(): boolean {
    return this.released;
  }

  /**
   * Its file was replaced: release the native session `graceMs` after the last run in flight ends (a run starting
   * meanwhile postpones it). A run asked of it after that is refused with a message saying to run it again.
   */
  retire(graceMs: number): void {
    this.retiredGraceMs = graceMs;
    this.scheduleRelease();
  }

  private scheduleRelease(): void {
    clearTimeout(this.releaseTimer);
    this.releaseTimer = undefined;
    if (this.retiredGraceMs === undefined || this.running > 0 || this.released) return;
    // a run starting meanwhile clears this timer, and its end schedules a new one: no check needed inside
    this.releaseTimer = setTimeout(() => {
      this.released = true;
      this.session.release().catch(() => undefined); // nothing to do if it cannot: the finaliser still frees it
    }, this.retiredGraceMs);
    this.releaseTimer.unref();
  }

  async run(feeds: Record<string, HostTensor>, outputs?: readonly string[]): Promise<Record<string, HostTensor>> {
    if (this.released) {
      throw modelCorrupt(`${this.file} was replaced on disk while this request used it; run it again to use the new file.`);
    }
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, tensor] of Object.entries(feeds)) {
      ortFeeds[name] = new ort.Tensor(tensor.type, tensor.data, tensor.dims);
    }
    let results: ort.InferenceSession.ReturnType;
    this.running++;
    clearTimeout(this.releaseTimer);
    try {
      results = outputs ? await this.session.run(ortFeeds, [...outputs]) : await this.session.run(ortFeeds);
    } catch (error) {
      throw modelCorrupt(`ONNX Runtime could not run ${this.file}: ${toLensError(error).message}`, error);
    } finally {
      this.running--;
      this.scheduleRelease();
    }
    const host: Record<string, HostTensor> = {};
    for (const [name, tensor] of Object.entries(results)) host[name] = toHostTensor(name, tensor);
    return host;
  }
}

function tensorInfo(meta: ort.InferenceSession.ValueMetadata): TensorInfo {
  if (!meta.isTensor) return { name: meta.name, type: undefined, shape: undefined };
  return { name: meta.name, type: meta.type, shape: [...meta.shape] };
}

function toHostTensor(name: string, tensor: ort.Tensor): HostTensor {
  const dims = [...tensor.dims];
  switch (tensor.type) {
    case 'float32':
      return { type: 'float32', data: tensor.data as Float32Array, dims };
    case 'int64':
      return { type: 'int64', data: tensor.data as BigInt64Array, dims };
    case 'int32':
      return { type: 'int32', data: tensor.data as Int32Array, dims };
    case 'bool':
      return { type: 'bool', data: tensor.data as Uint8Array, dims };
    default:
      throw new LensError('MODEL_CORRUPT', `Output "${name}" has type ${tensor.type}, which the engine does not read.`);
  }
}
