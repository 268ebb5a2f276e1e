import type { Engine } from '../engine/engine';
import { describeError, log } from '../log';

export interface EngineLocations {
  /** dist/worker.js inside the extension. */
  workerPath: string;
  /** media/models inside the extension; searched first (the first directory wins on an id clash). */
  shippedModels: string;
  /** The user's model folders (settings, then global storage), searched in order. */
  userModels: string[];
  /** Where graphs rewritten to expose attentions / hidden states are cached (global storage). */
  cacheDir?: string;
}

export type EngineFactory = (locations: EngineLocations) => Promise<Engine>;

/**
 * Owns the engine: nothing is loaded at activation; the first real use creates it (and so its worker).
 * The *promise* is memoised, so two concurrent first calls share one engine, and a rejected promise is
 * evicted so the next call can try again.
 */
export class EngineService {
  private loading: Promise<Engine> | undefined;
  private disposed = false;
  private disposing: Promise<void> | undefined;

  constructor(
    private readonly factory: EngineFactory,
    private readonly locations: () => EngineLocations,
  ) {}

  get(): Promise<Engine> {
    if (this.disposed) return Promise.reject(new Error('LM Lens is shutting down.'));
    if (!this.loading) {
      const started = performance.now();
      const locations = this.locations();
      const loading = this.factory(locations).then(
        (engine) => {
          log.info(`engine created in ${Math.round(performance.now() - started)} ms; its worker starts on the first request; models from ${[locations.shippedModels, ...locations.userModels].join(', ')}`);
          return engine;
        },
        (error: unknown) => {
          if (this.loading === loading) this.loading = undefined;
          log.error(`engine failed to start: ${describeError(error)}`);
          throw error;
        },
      );
      this.loading = loading;
    }
    return this.loading;
  }

  /** Drops the current engine (e.g. the model folders changed); the next use creates a new one. */
  async restart(): Promise<void> {
    const previous = this.loading;
    this.loading = undefined;
    await disposeEngine(previous);
  }

  /** Stops the engine (waiting for its worker to leave a model run); every call returns the same promise. */
  dispose(): Promise<void> {
    this.disposed = true;
    this.disposing ??= this.restart();
    return this.disposing;
  }
}

async function disposeEngine(loading: Promise<Engine> | undefined): Promise<void> {
  if (!loading) return;
  try {
    await (await loading).dispose();
  } catch (error) {
    log.warn(`engine dispose: ${describeError(error)}`);
  }
}
