/**
 * `Engine`: what the CLI and the extension use. Model lookup happens here (cheap file reads); inference
 * happens in the worker, which starts on the first request that needs it. Constructing an Engine never
 * loads ONNX Runtime.
 */
import type {
  AttentionRequest,
  AttentionResult,
  ClozeEvalResult,
  CompletionEvalRequest,
  CompletionEvalResult,
  EmbedRequest,
  EmbedResult,
  EvalFileRequest,
  EvalProgress,
  FillRequest,
  FillResult,
  GenerateProgress,
  GenerateRequest,
  GenerateResult,
  LogLikelihoodProgress,
  LogLikelihoodRequest,
  LogLikelihoodResult,
  ModelInfo,
  PairsEvalRequest,
  PairsEvalResult,
  PerplexityEvalResult,
  ScoreProgress,
  ScoreRequest,
  ScoreResult,
  SensesEvalRequest,
  SensesEvalResult,
  TagRequest,
  TagResult,
  TagsEvalResult,
} from './api';
import { checkAttentionRequest } from './tasks/attention/attention';
import { ATTENTION_KINDS } from './tasks/attention/attentionTensor';
import { evalCloze, evalCompletion, evalPairs, evalPerplexity, evalSenses, evalTags, type EvalOperations } from './eval/evaluate';
import { checkLogLikelihoodRequest, LIKELIHOOD_KINDS } from './eval/likelihood';
import { checkFillRequest, FILL_KINDS } from './tasks/fill/fill';
import { checkGenerateRequest, GENERATE_KINDS } from './tasks/generate/generate';
import { checkScoreRequest, SCORE_KINDS } from './tasks/score/score';
import { toLensError } from './errors';
import { SenseService, type SenseLocations } from './senses/service';
import type { SenseRequest, SenseResult } from './senses/types';
import { ModelStore, type ModelDirectory } from './modelStore';
import { EngineClient } from './runtime/client';
import { checkEmbedRequest, EMBED_KINDS } from './tasks/embed/embed';
import { checkTagRequest, resolveTagger } from './tasks/tag/tag';
import type { EngineMethods } from './methods';
import type { WorkerOptions } from './runtime/protocol';

export interface EngineOptions {
  /** Searched in order: the shipped models first, then the user's folders. */
  modelDirectories: readonly ModelDirectory[];
  /** The bundled worker (dist/worker.js). */
  workerPath: string;
  /** ONNX Runtime intra-op threads, 1 (default) or 2. */
  threads?: number;
  /** Cache of graphs rewritten to expose attentions / hidden states (default: inside each model's folder). */
  cacheDir?: string;
  log?: (message: string) => void;
  /** Where WordNet, the shipped sense vectors and the cache of built ones are (default: beside the worker). */
  senses?: Partial<SenseLocations>;
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
  /** Word senses: `engine.senses.sense(...)`, `engine.senses.buildSenseIndex(...)`. */
  readonly senses: SenseService;
  private readonly client: EngineClient<EngineMethods>;

  constructor(options: EngineOptions) {
    this.models = new ModelStore(options.modelDirectories);
    const workerData: WorkerOptions = {
      threads: options.threads ?? 1,
      ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    };
    this.client = new EngineClient<EngineMethods>({
      workerPath: options.workerPath,
      workerData,
      ...(options.log ? { log: options.log } : {}),
    });
    this.senses = new SenseService(this.models, this.client, options.workerPath, options.senses);
  }

  /** The usable models, as the folders hold them now (see `models.current()` for the broken ones and why). */
  listModels(): Promise<ModelInfo[]> {
    return lensErrors(async () => (await this.models.current()).models);
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
      // the tag is extra: no part-of-speech tagger (or a broken one) leaves the vectors as they were
      const tagging = checked.tag ? await resolveTagger(this.models, undefined, true).catch(() => undefined) : undefined;
      const tagger = tagging ? { tagger: tagging.model, ...(tagging.base ? { taggerBase: tagging.base } : {}) } : {};
      return this.client.request('embed', { model, text, word, occurrence, ...tagger }, signal);
    });
  }

  /** The top-k fills of each [MASK] in a text, and with several masks the best joint fills (masked LM). */
  fill(request: FillRequest, signal?: AbortSignal): Promise<FillResult> {
    return lensErrors(async () => {
      const { model: id, ...checked } = checkFillRequest(request);
      const model = await this.models.resolve(id, FILL_KINDS, 'fill');
      return this.client.request('fill', { ...checked, model }, signal);
    });
  }

  /**
   * Continues a text (causal LM), token by token; `onProgress` receives the text as it is generated.
   * Aborting `signal` stops generation before the next token.
   */
  generate(request: GenerateRequest, signal?: AbortSignal, onProgress?: (progress: GenerateProgress) => void): Promise<GenerateResult> {
    return lensErrors(async () => {
      const { model: id, ...checked } = checkGenerateRequest(request);
      const model = await this.models.resolve(id, GENERATE_KINDS, 'generate');
      return this.client.request('generate', { ...checked, model }, signal, onProgress);
    });
  }

  /** Per-token log-probabilities and perplexity of a text (causal LM); `onProgress` after each window of a long text. */
  score(request: ScoreRequest, signal?: AbortSignal, onProgress?: (progress: ScoreProgress) => void): Promise<ScoreResult> {
    return lensErrors(async () => {
      const { model: id, ...checked } = checkScoreRequest(request);
      const model = await this.models.resolve(id, SCORE_KINDS, 'score');
      return this.client.request('score', { ...checked, model }, signal, onProgress);
    });
  }

  /**
   * One log-likelihood per sentence: a causal LM's summed token log-probabilities, a masked LM's
   * pseudo-log-likelihood, an NNLM's summed n-gram log-probabilities.
   */
  logLikelihoods(request: LogLikelihoodRequest, signal?: AbortSignal, onProgress?: (progress: LogLikelihoodProgress) => void): Promise<LogLikelihoodResult> {
    return lensErrors(async () => {
      const { model: id, sentences, pll } = checkLogLikelihoodRequest(request);
      const model = await this.models.resolve(id, LIKELIHOOD_KINDS, 'logLikelihoods');
      return this.client.request('logLikelihoods', { sentences, model, pll }, signal, onProgress);
    });
  }

  /** Minimal pairs (a BLiMP-format .jsonl file or a folder of them): how often the good sentence scores higher. */
  evalPairs(request: PairsEvalRequest, signal?: AbortSignal, onProgress?: (progress: EvalProgress) => void): Promise<PairsEvalResult> {
    return lensErrors(() => evalPairs(this.evalOperations(), request, signal, onProgress));
  }

  /** Cloze lines (`answer|answer<TAB>sentence with one [MASK]`): a masked LM's top-1 and top-5 accuracy. */
  evalCloze(request: EvalFileRequest, signal?: AbortSignal, onProgress?: (progress: EvalProgress) => void): Promise<ClozeEvalResult> {
    return lensErrors(() => evalCloze(this.evalOperations(), request, signal, onProgress));
  }

  /** A causal LM's perplexity over a text file. */
  evalPerplexity(request: EvalFileRequest, signal?: AbortSignal, onProgress?: (progress: EvalProgress) => void): Promise<PerplexityEvalResult> {
    return lensErrors(() => evalPerplexity(this.evalOperations(), request, signal, onProgress));
  }

  /** Running text: ghost text at points of it against what it goes on with, at several confidence cuts. */
  evalCompletion(request: CompletionEvalRequest, signal?: AbortSignal, onProgress?: (progress: EvalProgress) => void): Promise<CompletionEvalResult> {
    return lensErrors(() => evalCompletion(this.evalOperations(), request, signal, onProgress));
  }

  /** Tagged sentences (`word<TAB>tag` lines): a tagger's accuracy, by tag, and its most frequent confusions. */
  evalTags(request: EvalFileRequest, signal?: AbortSignal, onProgress?: (progress: EvalProgress) => void): Promise<TagsEvalResult> {
    return lensErrors(() => evalTags(this.evalOperations(), request, signal, onProgress));
  }

  /** Sense lines (`word<TAB>WordNet sense key<TAB>sentence`): how often `sense` picks the gold sense, and the misses. */
  evalSenses(request: SensesEvalRequest, signal?: AbortSignal, onProgress?: (progress: EvalProgress) => void): Promise<SensesEvalResult> {
    return lensErrors(() => evalSenses(this.evalOperations(), request, signal, onProgress));
  }

  /**
   * Every layer's and head's attention weights over a text (BERT- or GPT-2-style model), for a window of tokens
   * around `focus`; causal models also give each token's surprisal and the likely next tokens.
   */
  attention(request: AttentionRequest, signal?: AbortSignal): Promise<AttentionResult> {
    return lensErrors(async () => {
      const { model: id, ...checked } = checkAttentionRequest(request);
      const model = await this.models.resolve(id, ATTENTION_KINDS, 'attention');
      return this.client.request('attention', { ...checked, model }, signal);
    });
  }

  /**
   * A tag and its probability for every word of a text (part of speech with the shipped taggers); the default
   * tagger is the best one installed (DEFAULT_TAGGERS). Aborting `signal` stops before the next window.
   */
  tag(request: TagRequest, signal?: AbortSignal): Promise<TagResult> {
    return lensErrors(async () => {
      const { model: id, text, words, topK } = checkTagRequest(request);
      const { model, base } = await resolveTagger(this.models, id);
      const labels = model.tagger?.labels.length ?? topK;
      return this.client.request('tag', { model, ...(base ? { base } : {}), text, ...(words ? { words } : {}), topK: Math.min(topK, labels) }, signal);
    });
  }

  /** Which WordNet sense a word has in its context: scorer over ELMo, BERT, GloVe, gloss overlap and priors. */
  sense(request: SenseRequest, signal?: AbortSignal): Promise<SenseResult> {
    return this.senses.sense(request, signal);
  }

  dispose(): Promise<void> {
    return this.client.dispose();
  }

  private evalOperations(): EvalOperations {
    return {
      resolveModel: async (id, kinds, operation) => (await this.models.resolve(id, kinds, operation)).id,
      logLikelihoods: (request, signal, onProgress) => this.logLikelihoods(request, signal, onProgress),
      fill: (request, signal) => this.fill(request, signal),
      score: (request, signal, onProgress) => this.score(request, signal, onProgress),
      generate: (request, signal) => this.generate(request, signal),
      resolveTagger: async (id) => {
        const { model } = await resolveTagger(this.models, id);
        return { id: model.id, labels: model.tagger?.labels ?? [] };
      },
      tag: (request, signal) => this.tag(request, signal),
      sense: (request, signal) => this.sense(request, signal),
    };
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
