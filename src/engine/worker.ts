/**
 * The engine worker's entry (bundled to dist/worker.js): builds the services the methods run on (ONNX Runtime
 * sessions, model configs) and serves the registry's handlers (`methods.ts`).
 */
import path from 'node:path';
import { workerData } from 'node:worker_threads';
import { modelCorrupt, toLensError } from './errors';
import { engineHandlers } from './methods';
import { ONNX_FILE, readModelConfig } from './modelStore';
import { StampedCache } from './fileStamp';
import type { WorkerServices } from './runtime/context';
import { exposedModelFile, headGatheredModelFile, kvAppendModelFile } from './runtime/exposed';
import { loadSession } from './runtime/ort';
import type { WorkerOptions } from './runtime/protocol';
import { serve } from './runtime/server';

const options = (workerData ?? {}) as WorkerOptions;
const configs = new StampedCache<Record<string, unknown>>();

const services: WorkerServices = {
  session: async (model, sessionOptions) => {
    const own = path.join(model.path, ONNX_FILE);
    const file = sessionOptions?.expose
      ? await exposedModelFile(model, sessionOptions.expose, options.cacheDir)
      : sessionOptions?.headGather !== undefined
        ? await headGatheredModelFile(model, sessionOptions.headGather, options.cacheDir)
        : sessionOptions?.kvAppend
          ? await kvAppendModelFile(model, options.cacheDir).catch(() => own) // e.g. a read-only cache folder
          : own;
    try {
      return await loadSession(file, { threads: options.threads ?? 1 });
    } catch (error) {
      // name the model: the file may be a rewritten copy in a cache folder
      const lens = toLensError(error);
      const what =
        sessionOptions?.headGather !== undefined
          ? 'with its head at chosen positions'
          : sessionOptions?.kvAppend
            ? "that also returns each step's keys and values"
            : 'with its attentions / hidden states exposed';
      const copy = file === own ? '' : ` (a copy of ${own} ${what})`;
      throw lens.code === 'MODEL_CORRUPT' ? modelCorrupt(`Model "${model.id}"${copy}: ${lens.message}`, error) : lens;
    }
  },
  config: (model) => configs.get(model.path, path.join(model.path, 'config.json'), readModelConfig),
};

serve(engineHandlers(services));
