/**
 * The ONE file that imports onnxruntime-node. Only the engine worker (runtime/worker.ts) imports it: a
 * `session.run` is a synchronous native call that would freeze the extension host.
 * Sessions are memoised as promises per model file, loaded again when the file changes on disk; a failed load is
 * evicted so a retry can succeed.
 */
import * as ort from 'onnxruntime-node';
import { LensError, modelCorrupt, toLensError } from '../errors';
import { StampedCache } from '../fileStamp';
import type { HostTensor, ModelSession, TensorInfo } from './session';

export interface SessionSettings {
  /** Intra-op threads: 1 or 2 (the machine is shared). */
  threads: number;
}

const sessions = new StampedCache<ModelSession>();

/**
 * ONNX Runtime's own log goes to stderr, where the CLI prints only its JSON error (and progress): its warnings
 * ("Removing initializer ...") came before the error, and its error lines repeat what the thrown error says,
 * which every caller reports. So it logs only fatal errors. Read once, when the first session is created.
 */
ort.env.logLevel = 'fatal';
const LOG_SEVERITY_FATAL = 4;

/** The session for the ONNX file at `file`; MODEL_CORRUPT when ONNX Runtime cannot load it. */
export function loadSession(file: string, settings: SessionSettings): Promise<ModelSession> {
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

class OrtModelSession implements ModelSession {
  readonly inputInfo: readonly TensorInfo[];
  readonly outputInfo: readonly TensorInfo[];

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

  async run(feeds: Record<string, HostTensor>, outputs?: readonly string[]): Promise<Record<string, HostTensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, tensor] of Object.entries(feeds)) {
      ortFeeds[name] = new ort.Tensor(tensor.type, tensor.data, tensor.dims);
    }
    let results: ort.InferenceSession.ReturnType;
    try {
      results = outputs ? await this.session.run(ortFeeds, [...outputs]) : await this.session.run(ortFeeds);
    } catch (error) {
      throw modelCorrupt(`ONNX Runtime could not run ${this.file}: ${toLensError(error).message}`, error);
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
