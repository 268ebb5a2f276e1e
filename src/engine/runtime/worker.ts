/**
 * The engine worker's entry (bundled to dist/worker.js). Method dispatch is this table: to add a method,
 * declare it in protocol.ts `EngineMethods`, implement it in a module that takes its services as arguments,
 * and add one line here.
 */
import path from 'node:path';
import { workerData } from 'node:worker_threads';
import { attention } from '../tasks/attention/attention';
import { modelCorrupt, toLensError } from '../errors';
import { logLikelihoods } from '../eval/likelihood';
import { fill } from '../tasks/fill/fill';
import { generate } from '../tasks/generate/generate';
import { ONNX_FILE, readModelConfig } from '../modelStore';
import { StampedCache } from '../fileStamp';
import { buildSenseIndex } from '../senses/buildIndex';
import { contextVectors } from '../senses/contextual';
import { sense } from '../senses/sense';
import { score } from '../tasks/score/score';
import { embed } from '../tasks/embed/embed';
import { tag } from '../tasks/tag/tag';
import type { WorkerServices } from './context';
import { exposedModelFile, headGatheredModelFile, kvAppendModelFile } from './exposed';
import { loadSession } from './ort';
import type { EngineMethods, WorkerOptions } from './protocol';
import { serve, type Handlers } from './server';

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

const handlers: Handlers<EngineMethods> = {
  attention: (params, ctx) => attention(params, ctx, services),
  embed: (params, ctx) => embed(params, ctx, services),
  sense: (params, ctx) => sense(params, ctx, services),
  contextVectors: (params, ctx) => contextVectors(params.model, params.sentences, params.positions, services, () => ctx.checkpoint()),
  buildSenseIndex: (params, ctx) => buildSenseIndex(params, ctx, services),
  fill: (params, ctx) => fill(params, ctx, services),
  generate: (params, ctx) => generate(params, ctx, services),
  score: (params, ctx) => score(params, ctx, services),
  logLikelihoods: (params, ctx) => logLikelihoods(params, ctx, services),
  tag: (params, ctx) => tag(params, ctx, services),
};

serve(handlers);
