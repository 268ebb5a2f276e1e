/**
 * The `eval` scoreboards, host side: read the file (pairs: or every .jsonl file of a folder), parse it into
 * items (items.ts), ask the engine what the model makes of them (logLikelihoods, fill, score, generate, tag, sense), tally.
 * A cancel (the signal) stops the run between sentences or items with CANCELLED.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FillRequest, FillResult, GenerateRequest, GenerateResult, ModelKind, ScoreProgress, ScoreRequest, ScoreResult, SenseRequest, SenseResult, TagRequest, TagResult } from '../api';
import { LensError, badInput, cancelled } from '../errors';
import { checkModelId, checkText } from '../tasks/requestChecks';
import { readTextFile } from '../textFile';
import { GHOST_TEXT_DEFAULTS, healedPrompt, promptBefore } from '../tasks/generate/confidence';
import { FILL_KINDS } from '../tasks/fill/fill';
import { GENERATE_KINDS, GENERATE_LIMITS } from '../tasks/generate/generate';
import { SCORE_KINDS } from '../tasks/score/score';
import {
  isSpecialTokenText,
  pairSentences,
  pairsScored,
  parseCloze,
  parsePairs,
  parseSenseItems,
  parseTagged,
  tallyCloze,
  tallyPairs,
  tallySenses,
  tallyTags,
  type PairItem,
  type SensePick,
} from './items';
import { COMPLETION_THRESHOLDS, completionPoints, completionSample, tallyCompletion, type Suggestion } from './completion';
import { checkPll, LIKELIHOOD_KINDS } from './likelihood';
import type {
  ClozeEvalResult,
  CompletionEvalRequest,
  CompletionSample,
  CompletionEvalResult,
  EvalFileRequest,
  EvalProgress,
  LogLikelihoodProgress,
  LogLikelihoodRequest,
  LogLikelihoodResult,
  PairsEvalRequest,
  PairsEvalResult,
  PerplexityEvalResult,
  SensesEvalRequest,
  SensesEvalResult,
  TagsEvalResult,
} from './types';

/** What the scoreboards need of the engine (Engine provides it). */
export interface EvalOperations {
  /** The id of the model `id` names (default: the first of `kinds`); MODEL_NOT_FOUND, or BAD_INPUT for the wrong kind. */
  resolveModel(id: string | undefined, kinds: readonly ModelKind[], operation: string): Promise<string>;
  logLikelihoods(request: LogLikelihoodRequest, signal?: AbortSignal, onProgress?: (progress: LogLikelihoodProgress) => void): Promise<LogLikelihoodResult>;
  fill(request: FillRequest, signal?: AbortSignal): Promise<FillResult>;
  score(request: ScoreRequest, signal?: AbortSignal, onProgress?: (progress: ScoreProgress) => void): Promise<ScoreResult>;
  generate(request: GenerateRequest, signal?: AbortSignal): Promise<GenerateResult>;
  /** The tagger `id` names (default: the best installed one) and its labels; MODEL_NOT_FOUND, or BAD_INPUT for a non-tagger. */
  resolveTagger(id: string | undefined): Promise<{ id: string; labels: readonly string[] }>;
  tag(request: TagRequest, signal?: AbortSignal): Promise<TagResult>;
  sense(request: SenseRequest, signal?: AbortSignal): Promise<SenseResult>;
}

type OnProgress = ((progress: EvalProgress) => void) | undefined;

/** The contextual models `sense --model` takes: an ELMo (biLM) or a BERT-style masked LM. */
const SENSE_MODEL_KINDS: readonly ModelKind[] = ['bilm', 'masked-lm'];

/** Fills asked for per cloze item: room to drop vocabulary entries that are not words. */
const CLOZE_CANDIDATES = 10;

function checkEvalRequest(request: EvalFileRequest): { file: string; model: string | undefined } {
  const { file, model } = request;
  if (typeof file !== 'string' || file.trim() === '') throw badInput('Give the file to evaluate on (--file FILE).');
  checkModelId(model);
  return { file, model };
}

/** `target` itself, or the .jsonl files in it (sorted) when it is a folder. */
async function pairFiles(target: string): Promise<{ files: string[]; folder: boolean }> {
  let isFolder: boolean;
  try {
    isFolder = (await stat(target)).isDirectory();
  } catch (error) {
    throw badInput(`Cannot read ${target}: ${(error as NodeJS.ErrnoException).code ?? String(error)}.`);
  }
  if (!isFolder) return { files: [target], folder: false };
  const names = (await readdir(target)).filter((name) => name.toLowerCase().endsWith('.jsonl')).sort();
  if (names.length === 0) throw badInput(`${target} has no .jsonl files of minimal pairs.`);
  return { files: names.map((name) => path.join(target, name)), folder: true };
}

/**
 * Minimal pairs (BLiMP format): accuracy of "the good sentence gets the higher log-likelihood", overall, by
 * linguistics term and (a folder) by file.
 */
export async function evalPairs(ops: EvalOperations, request: PairsEvalRequest, signal?: AbortSignal, onProgress?: OnProgress): Promise<PairsEvalResult> {
  const { file, model } = checkEvalRequest(request);
  const pll = checkPll(request.pll); // before the files are read
  const { files, folder } = await pairFiles(file);
  const items: PairItem[] = [];
  for (const each of files) items.push(...parsePairs(await readTextFile(each), each));
  const id = await ops.resolveModel(model, LIKELIHOOD_KINDS, 'eval pairs');
  const { sentences, good, bad } = pairSentences(items);
  const scored = await ops.logLikelihoods({ sentences, model: id, pll }, signal, (progress) =>
    onProgress?.({ unit: 'pairs', done: pairsScored(good, bad, progress.sentences), total: items.length }),
  );
  const scores = scored.logLikelihoods;
  const tally = tallyPairs(items, good.map((i) => scores[i]!), bad.map((i) => scores[i]!), folder);
  return { model: scored.model, method: scored.method, ...tally };
}

/** Cloze lines: top-1 and top-5 accuracy of a masked LM's fills for the one [MASK] of each line. */
export async function evalCloze(ops: EvalOperations, request: EvalFileRequest, signal?: AbortSignal, onProgress?: OnProgress): Promise<ClozeEvalResult> {
  const { file, model } = checkEvalRequest(request);
  const items = parseCloze(await readTextFile(file), file);
  const id = await ops.resolveModel(model, FILL_KINDS, 'eval cloze');
  const predictions: string[][] = [];
  for (const item of items) {
    if (signal?.aborted) throw cancelled();
    const result: FillResult = await atLine(file, item.line, () => ops.fill({ text: item.sentence, topK: CLOZE_CANDIDATES, model: id }, signal));
    const words = (result.masks[0]?.predictions ?? []).map((p) => p.token).filter((token) => !isSpecialTokenText(token));
    predictions.push(words.slice(0, 5));
    onProgress?.({ unit: 'items', done: predictions.length, total: items.length });
  }
  return { model: id, ...tallyCloze(items, predictions) };
}

/** A BAD_INPUT or INPUT_TOO_LONG error of one item, re-thrown with the file and line it came from. */
function atLine<T>(file: string, line: number, run: () => Promise<T>): Promise<T> {
  return run().catch((error: unknown) => {
    if (error instanceof LensError && (error.code === 'BAD_INPUT' || error.code === 'INPUT_TOO_LONG')) {
      throw new LensError(error.code, `${file}:${line}: ${error.message}`, { cause: error });
    }
    throw error;
  });
}

/**
 * Sense lines (`word<TAB>sense key<TAB>sentence`): the hover's `sense` on each sentence (one request an item, so a
 * cancel stops between items), accuracy overall and by part of speech, and the misses.
 */
export async function evalSenses(ops: EvalOperations, request: SensesEvalRequest, signal?: AbortSignal, onProgress?: OnProgress): Promise<SensesEvalResult> {
  const { file, model } = checkEvalRequest(request);
  if (request.posFilter !== undefined && typeof request.posFilter !== 'boolean') throw badInput('posFilter must be true or false.');
  const items = parseSenseItems(await readTextFile(file), file);
  if (model !== undefined) await ops.resolveModel(model, SENSE_MODEL_KINDS, 'eval senses'); // a wrong kind is no one line's fault
  const picks: SensePick[] = [];
  let first: SenseResult | undefined;
  const missing = new Set<string>();
  for (const item of items) {
    if (signal?.aborted) throw cancelled();
    const result = await atLine(file, item.line, () =>
      ops.sense({ text: item.sentence, word: item.word, ...(model !== undefined ? { model } : {}), ...(request.posFilter !== undefined ? { posFilter: request.posFilter } : {}) }, signal),
    );
    first ??= result;
    result.missingSenseVectors.forEach((id) => missing.add(id));
    picks.push({ senseKey: result.senseKey, gloss: result.gloss, candidates: result.candidates.map((c) => c.senseKey) });
    onProgress?.({ unit: 'items', done: picks.length, total: items.length });
  }
  return {
    models: first!.models,
    missingSenseVectors: [...missing].sort(),
    ...(first!.tag ? { tagger: first!.tag.model } : {}),
    ...tallySenses(items, picks),
  };
}

/** Running text: a causal LM's perplexity over the whole file (the `score` operation). */
export async function evalPerplexity(
  ops: EvalOperations,
  request: EvalFileRequest,
  signal?: AbortSignal,
  onProgress?: OnProgress,
): Promise<PerplexityEvalResult> {
  const { file, model } = checkEvalRequest(request);
  const text = await readTextFile(file);
  checkText(text, file);
  const id = await ops.resolveModel(model, SCORE_KINDS, 'eval perplexity');
  const result = await ops.score({ text, model: id }, signal, (progress) =>
    onProgress?.({ unit: 'windows', done: progress.windows, total: progress.total }),
  );
  return { model: result.model, tokens: result.tokenLogProbs.length, perplexity: result.perplexity, windows: result.windows };
}

/**
 * Tagged sentences: each sentence's words go to the tagger as given (one request a sentence, so context stays
 * inside it and a cancel stops between sentences); accuracy, by gold tag, and the most frequent confusions.
 */
export async function evalTags(ops: EvalOperations, request: EvalFileRequest, signal?: AbortSignal, onProgress?: OnProgress): Promise<TagsEvalResult> {
  const { file, model } = checkEvalRequest(request);
  const sentences = parseTagged(await readTextFile(file), file);
  const tagger = await ops.resolveTagger(model);
  const predicted: string[][] = [];
  for (const sentence of sentences) {
    if (signal?.aborted) throw cancelled();
    let result: TagResult;
    try {
      result = await ops.tag({ words: sentence.words, model: tagger.id, topK: 1 }, signal);
    } catch (error) {
      if (error instanceof LensError && (error.code === 'BAD_INPUT' || error.code === 'INPUT_TOO_LONG')) {
        throw new LensError(error.code, `${file}:${sentence.line}: ${error.message}`, { cause: error });
      }
      throw error;
    }
    if (result.words.length !== sentence.words.length) {
      throw new LensError('INTERNAL', `${file}:${sentence.line}: the tagger answered ${result.words.length} tags for ${sentence.words.length} words.`);
    }
    predicted.push(result.words.map((w) => w.tag));
    onProgress?.({ unit: 'sentences', done: predicted.length, total: sentences.length });
  }
  return { model: tagger.id, ...tallyTags(sentences, predicted, tagger.labels) };
}

/** Samples of `eval completion` to read: the first few points. */
const COMPLETION_SAMPLES = 5;

/**
 * Running text: ghost text (greedy, one line, as the editor asks for it) at every `every`-th word of each line,
 * against what the line goes on with, cut at each of COMPLETION_THRESHOLDS; what lets a confidence cut be chosen
 * by measurement.
 */
export async function evalCompletion(
  ops: EvalOperations,
  request: CompletionEvalRequest,
  signal?: AbortSignal,
  onProgress?: OnProgress,
): Promise<CompletionEvalResult> {
  const { file, model } = checkEvalRequest(request);
  const { every = 8, maxTokens = GHOST_TEXT_DEFAULTS.maxTokens, repetitionPenalty = GHOST_TEXT_DEFAULTS.repetitionPenalty } = request;
  if (!Number.isInteger(every) || every < 1 || every > 1000) throw badInput(`every must be a whole number from 1 to 1000 (got ${String(every)}).`);
  if (!Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > GENERATE_LIMITS.maxTokens) {
    throw badInput(`maxTokens must be a whole number from 1 to ${GENERATE_LIMITS.maxTokens} (got ${String(maxTokens)}).`);
  }
  const { cursor = 'word-end', healing = 'token' } = request;
  if (!['word-end', 'after-space', 'mid-word'].includes(cursor)) {
    throw badInput(`cursor must be "word-end", "after-space" or "mid-word" (got ${JSON.stringify(cursor)}).`);
  }
  if (!['token', 'space', 'none'].includes(healing)) throw badInput(`healing must be "token", "space" or "none" (got ${JSON.stringify(healing)}).`);
  const text = (await readTextFile(file)).replace(/\r\n?/g, '\n');
  const points = completionPoints(text, every, cursor);
  if (points.length === 0) throw badInput(`${file} has no line with more than ${every} words to complete.`);
  const id = await ops.resolveModel(model, GENERATE_KINDS, 'eval completion');
  const suggestions: Suggestion[] = [];
  const samples: CompletionSample[] = [];
  for (const point of points) {
    if (signal?.aborted) throw cancelled();
    const typed = promptBefore(text, point.offset);
    const prompt = healing === 'space' ? healedPrompt(typed) : typed;
    const heal = healing === 'token';
    const result = await ops.generate({ text: prompt, maxTokens, stop: ['\n'], repetitionPenalty, tokenProbs: true, heal, model: id }, signal);
    const suggestion = { completion: result.completion, tokenEnds: result.tokenEnds ?? [], tokenProbs: result.tokenProbs ?? [], healed: prompt !== typed, healedTokens: result.healedTokens ?? 0 };
    suggestions.push(suggestion);
    if (samples.length < COMPLETION_SAMPLES) samples.push(completionSample(typed, point, suggestion));
    onProgress?.({ unit: 'points', done: suggestions.length, total: points.length });
  }
  return {
    model: id,
    points: points.length,
    maxTokens,
    repetitionPenalty,
    cursor,
    healing,
    thresholds: COMPLETION_THRESHOLDS.map((t) => tallyCompletion(points, suggestions, t)),
    samples,
  };
}
