import type { EngineFactory } from './engineService';
import { log } from '../log';

/**
 * Creates the engine facade. Loaded on first use; constructing it reads no model and starts no worker
 * (the worker, and with it onnxruntime-node, starts on the first inference request).
 */
export const createEngine: EngineFactory = async ({ workerPath, shippedModels, userModels, cacheDir }) => {
  const { Engine, modelDirectories } = await import('../engine/engine');
  return new Engine({
    workerPath,
    modelDirectories: modelDirectories(shippedModels, userModels),
    ...(cacheDir ? { cacheDir } : {}),
    log: (message) => log.warn(message),
  });
};
