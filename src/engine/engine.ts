/**
 * `Engine`: what the CLI and the extension use. Model lookup happens here (cheap file reads); inference
 * happens in the worker, which starts on the first request that needs it. Constructing an Engine never
 * loads ONNX Runtime.
 */
import type { EmbedRequest, EmbedResult, ModelInfo } from './api';
import { checkEmbedRequest, EMBED_KINDS } from './embed';
import { toLensError } from './errors';
import { ModelStore, type ModelDirectory } from './modelStore';
import { EngineClient } from './runtime/client';
import type { EngineMethods, WorkerOptions } from './runtime/protocol';

export interface EngineOptions {
  /** Searched in order: the shipped models first, then the user's folders. */
  modelDirectories: readonly ModelDirectory[];
  /** The bundled worker (dist/worker.js). */
  workerPath: string;
  /** ONNX Runtime intra-op threads, 1 (default) or 2. */
  threads?: number;
  log?: (message: string) => void;
}

/** The usual directory list: the shipped models first, then the user's folders. */
export function modelDirectories(shipped: string | undefined, user: readonly string[] = []): ModelDirectory[] {
  return [
    ...(shipped === undefined ? [] : [{ path: shipped, source: 'shipped' as const }]),
    ...user.map((dir) => ({ path: dir, source: 'user' as const })),
  ];
}

export class Engine {
  readonly models: ModelStore;
  private readonly client: EngineClient<EngineMethods>;

  constructor(options: EngineOptions) {
    this.models = new ModelStore(options.modelDirectories);
    const workerData: WorkerOptions = { threads: options.threads ?? 1 };
    this.client = new EngineClient<EngineMethods>({
      workerPath: options.workerPath,
      workerData,
      ...(options.log ? { log: options.log } : {}),
    });
  }

  /** The usable models (see `models.scan()` for the broken ones and why). */
  listModels(): Promise<ModelInfo[]> {
    return lensErrors(() => this.models.list());
  }

  /** Forgets the cached model list, e.g. after a model was added. */
  refreshModels(): void {
    this.models.refresh();
  }

  /** Each layer's vector for one occurrence of a word in a text (ELMo: token, LSTM 1, LSTM 2). */
  embed(request: EmbedRequest, signal?: AbortSignal): Promise<EmbedResult> {
    return lensErrors(async () => {
      const checked = checkEmbedRequest(request);
      const model = await this.models.resolve(checked.model, EMBED_KINDS, 'embed');
      const { text, word, occurrence } = checked;
      return this.client.request('embed', { model, text, word, occurrence }, signal);
    });
  }

  dispose(): Promise<void> {
    return this.client.dispose();
  }
}

/** Every error leaving the engine is a LensError. */
async function lensErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw toLensError(error);
  }
}
