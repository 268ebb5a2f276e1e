/**
 * The `generate` operation: continues a text with a causal LM, one token at a time, reusing the key/value
 * cache (past_key_values -> present) unless asked not to. Greedy or sampled (temperature, top-k, top-p,
 * seeded); stops at max tokens, a stop string or the end-of-text token; streams the decoded text back as it
 * goes and checks for a cancel between tokens. When the text reaches the end of the context window, the window
 * slides: the oldest quarter of it is dropped and the rest is run again from position 0 (see slideWindow).
 *
 * Three phases: tokenize (cutting the prompt from the left to fit), run the model step by step,
 * detokenize incrementally (holding back text that could still become a stop string).
 */
import type { GenerateProgress, GenerateRequest, GenerateResult, ModelInfo, ModelKind } from '../../api';
import { CausalLm, KvArena, logitsRow, parseCausalConfig, type CausalConfig, type KvCache } from '../../models/causalLm';
import { badInput } from '../../errors';
import { checkModelId, checkText } from '../requestChecks';
import type { RequestContext, WorkerServices } from '../../runtime/context';
import { chooseToken, isSampling, logSumExp, mulberry32, penalizeRepeats, type SamplingOptions } from '../../sampling';
import { loadTokenizer, tokenTexts, type Tokenizer } from '../../tokenizer';
import { encodeLmText } from '../../models/lmText';

/**
 * Streamed text goes to the caller at most once per this many milliseconds (the first piece at once): a small
 * model's step takes about a millisecond, and a worker message per token cost 15% of generation (measured,
 * test/bench/generation.mjs); an editor repaints at most once a frame anyway.
 */
export const STREAM_INTERVAL_MS = 16;

export const GENERATE_KINDS: readonly ModelKind[] = ['causal-lm'];

export const GENERATE_LIMITS = {
  maxTokens: 1024,
  defaultMaxTokens: 32,
  maxTemperature: 5,
  maxStops: 8,
  maxStopLength: 100,
  maxRepetitionPenalty: 2,
  /** Characters; longer prompts are refused before tokenizing (the model only sees the end anyway). */
  maxTextLength: 1_000_000,
} as const;

export interface CheckedGenerateRequest {
  text: string;
  maxTokens: number;
  sampling: SamplingOptions;
  seed: number | undefined;
  stop: string[];
  noCache: boolean;
  minTokens: number;
  repetitionPenalty: number;
  tokenProbs: boolean;
  heal: boolean;
  model: string | undefined;
}

/** `generate` in the worker: the checked request (defaults filled in) with the resolved model. */
export type GenerateParams = Omit<CheckedGenerateRequest, 'model'> & { model: ModelInfo };

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Host side: BAD_INPUT for anything malformed, with what was expected; fills in the defaults. */
export function checkGenerateRequest(request: GenerateRequest): CheckedGenerateRequest {
  const { text, maxTokens = GENERATE_LIMITS.defaultMaxTokens, temperature = 0, topK = 0, topP = 1, minP = 0 } = request;
  const { seed, stop = [], noCache = false, minTokens = 0, repetitionPenalty = 1, tokenProbs = false, heal = false, model } = request;
  checkText(text, 'The text to continue');
  if (text.length > GENERATE_LIMITS.maxTextLength) {
    throw badInput(`The text is too long (${text.length} characters; at most ${GENERATE_LIMITS.maxTextLength}).`);
  }
  if (!Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > GENERATE_LIMITS.maxTokens) {
    throw badInput(`maxTokens must be a whole number from 1 to ${GENERATE_LIMITS.maxTokens} (got ${String(maxTokens)}).`);
  }
  if (!isNumber(temperature) || temperature < 0 || temperature > GENERATE_LIMITS.maxTemperature) {
    throw badInput(`temperature must be from 0 (greedy) to ${GENERATE_LIMITS.maxTemperature} (got ${String(temperature)}).`);
  }
  if (!Number.isInteger(topK) || topK < 0) throw badInput(`topK must be a whole number, 0 for no limit (got ${String(topK)}).`);
  if (!isNumber(topP) || topP <= 0 || topP > 1) throw badInput(`topP must be above 0 and at most 1 (got ${String(topP)}).`);
  if (!isNumber(minP) || minP < 0 || minP >= 1) throw badInput(`minP must be from 0 (no limit) up to, not including, 1 (got ${String(minP)}).`);
  if (seed !== undefined && (!Number.isSafeInteger(seed) || seed < 0)) {
    throw badInput(`seed must be a whole number from 0 up (got ${String(seed)}).`);
  }
  if (!Array.isArray(stop) || stop.some((s) => typeof s !== 'string' || s === '' || s.length > GENERATE_LIMITS.maxStopLength)) {
    throw badInput(`stop must be a list of non-empty strings of at most ${GENERATE_LIMITS.maxStopLength} characters.`);
  }
  if (stop.length > GENERATE_LIMITS.maxStops) throw badInput(`At most ${GENERATE_LIMITS.maxStops} stop strings.`);
  if (typeof noCache !== 'boolean') throw badInput('noCache must be true or false.');
  if (typeof tokenProbs !== 'boolean') throw badInput('tokenProbs must be true or false.');
  if (typeof heal !== 'boolean') throw badInput('heal must be true or false.');
  if (!Number.isInteger(minTokens) || minTokens < 0 || minTokens > maxTokens) {
    throw badInput(`minTokens must be a whole number from 0 to maxTokens (got ${String(minTokens)}).`);
  }
  if (!isNumber(repetitionPenalty) || repetitionPenalty < 1 || repetitionPenalty > GENERATE_LIMITS.maxRepetitionPenalty) {
    throw badInput(`repetitionPenalty must be from 1 (none) to ${GENERATE_LIMITS.maxRepetitionPenalty} (got ${String(repetitionPenalty)}).`);
  }
  checkModelId(model);
  const sampled = isSampling({ temperature });
  return {
    text,
    maxTokens,
    sampling: { temperature: sampled ? temperature : 0, topK, topP, minP }, // a subnormal temperature is greedy
    seed: sampled ? (seed ?? Math.floor(Math.random() * 2 ** 32)) : undefined,
    stop,
    noCache,
    minTokens,
    repetitionPenalty,
    tokenProbs,
    heal,
    model,
  };
}

/**
 * How much of a prompt of `promptLength` tokens to keep: all of it when it fits with `maxTokens` more in
 * the context window; else the end of it, leaving room for the completion but keeping at least half the
 * window of prompt (generation then slides the window, see slideWindow).
 */
export function promptBudget(promptLength: number, maxTokens: number, contextSize: number): number {
  if (promptLength + maxTokens <= contextSize) return promptLength;
  return Math.min(promptLength, Math.max(contextSize - maxTokens, Math.ceil(contextSize / 2)));
}

/**
 * The tokens the model sees next: `ids` itself while it fits the window of `contextSize` positions, else its last
 * three quarters of a window (at least one token). Sliding by a quarter at a time, not one token, keeps the cache:
 * positions restart at 0 after a slide, so the whole window is run again, once per quarter window of text.
 */
export function slideWindow(ids: number[], contextSize: number): { ids: number[]; slid: boolean } {
  if (ids.length <= contextSize) return { ids, slid: false };
  const keep = Math.max(1, contextSize - Math.max(1, Math.floor(contextSize / 4)));
  return { ids: ids.slice(-keep), slid: true };
}

/** Token healing's plan: the tokens taken back from the prompt's end, and their text (what the model re-writes). */
export interface Healing {
  /** The text of the tokens taken back (the completion does not repeat it). */
  text: string;
  /** The tokens taken back, in order. */
  ids: number[];
}

/** At most this many tokens are taken back (a half-typed word is rarely more). */
export const MAX_HEALED_TOKENS = 4;

const WORD_PIECE = /^\s?[\p{L}\p{N}_]+$/u;
const STARTS_IN_WORD = /^[\p{L}\p{N}_]/u;

/**
 * Token healing (Lundberg's name for it in Guidance): a prompt cut where the writer stopped typing ends on a token
 * boundary the tokenizer would not have chosen had the text gone on. A typed space ends in a bare " " token, where
 * byte-level BPE puts the space at the start of the next word's token (" States"); half a word, "The Uni", ends in
 * " Un" + "i", after which the model never saw "ted" (" United" is one token). The end of the prompt is taken back
 * and the model writes it again, token by token, under the constraint that what it writes agrees with it (see
 * healingAllowed), so it chooses the tokenization itself. Taken back: the last token, and the tokens before it while
 * they are pieces of the same word (up to and including the one that starts it, MAX_HEALED_TOKENS at most). `texts`
 * is tokenTexts' table. Nothing to heal: a one-token prompt, a special token, part of a character.
 */
export function planHealing(texts: readonly string[], prompt: readonly number[]): Healing | undefined {
  let text = '';
  const ids: number[] = [];
  while (ids.length < MAX_HEALED_TOKENS && prompt.length - ids.length > 1) {
    const id = prompt[prompt.length - 1 - ids.length]!;
    const piece = texts[id] ?? '';
    if (piece === '' || piece.includes('\uFFFD')) break;
    if (ids.length > 0 && !WORD_PIECE.test(piece)) break; // earlier tokens only while they belong to the word
    text = piece + text;
    ids.unshift(id);
    if (!STARTS_IN_WORD.test(piece)) break; // the word's first token (a leading space), a space or a mark
  }
  return ids.length === 0 ? undefined : { text, ids };
}

/**
 * The tokens the model may write while `pending` (what is left of the healed text) is not written yet: the token the
 * tokenizer had there (`original`: the writer's text as it was split), or one that holds all of `pending` and may go
 * on. Any token that is merely a start of `pending` is not allowed: frequent short tokens (" a" for " apart") would
 * win and lead the model into splits it never saw. Never a part of a character.
 */
export function healingAllowed(texts: readonly string[], pending: string, original: number): Int32Array {
  const allowed: number[] = [];
  texts.forEach((t, id) => {
    if ((id === original || t.startsWith(pending)) && t !== '' && !t.includes('\uFFFD')) allowed.push(id);
  });
  return Int32Array.from(allowed);
}

/** Every logit of `row` but the `allowed` ones becomes -Infinity (in place). */
function keepOnly(row: Float32Array, allowed: Int32Array): void {
  const keep = new Uint8Array(row.length);
  for (const id of allowed) if (id < row.length) keep[id] = 1;
  for (let i = 0; i < row.length; i++) if (!keep[i]) row[i] = -Infinity;
}

/**
 * Incremental detokenization: turns token ids into text one id at a time, decoding a short window so
 * that tokenizers whose decoding depends on neighbours (leading spaces, byte-level pieces of one
 * character) give the same text as decoding everything at once. Holds back an incomplete UTF-8 character.
 */
export class IncrementalDecoder {
  private readonly ids: number[];
  private prefixOffset: number;
  private readOffset: number;

  constructor(
    private readonly tokenizer: Tokenizer,
    context: readonly number[],
  ) {
    this.ids = context.slice(-6);
    this.readOffset = this.ids.length;
    this.prefixOffset = Math.max(0, this.readOffset - 5);
  }

  /** The text that `id` adds ('' while a character is incomplete). */
  push(id: number): string {
    this.ids.push(id);
    const decode = (ids: number[]): string => this.tokenizer.decode(ids, { skip_special_tokens: true });
    const prefix = decode(this.ids.slice(this.prefixOffset, this.readOffset));
    const text = decode(this.ids.slice(this.prefixOffset));
    if (text.length <= prefix.length || text.endsWith('\uFFFD') || !text.startsWith(prefix)) return '';
    this.prefixOffset = this.readOffset;
    this.readOffset = this.ids.length;
    return text.slice(prefix.length);
  }
}

/** Length of the longest end of `text` that is the start of some stop string (text that may not be shown yet). */
export function heldBack(text: string, stops: readonly string[]): number {
  let longest = 0;
  for (const stop of stops) {
    for (let n = Math.min(stop.length - 1, text.length); n > longest; n--) {
      if (text.endsWith(stop.slice(0, n))) {
        longest = n;
        break;
      }
    }
  }
  return longest;
}

/** Where the first stop string starts in `text`, searching from `from`; -1 when none is there. */
export function findStop(text: string, stops: readonly string[], from: number): number {
  let at = -1;
  for (const stop of stops) {
    const i = text.indexOf(stop, Math.max(0, from));
    if (i !== -1 && (at === -1 || i < at)) at = i;
  }
  return at;
}

/** The tokenizer, causal-LM config and session of a model, loaded together (generate and score). */
export async function loadCausalLm(model: ModelInfo, services: WorkerServices): Promise<{ tokenizer: Tokenizer; causal: CausalConfig; lm: CausalLm }> {
  // the tokenizer and config first: a broken folder fails before ONNX Runtime starts loading (a CLI that exits while
  // the worker is inside session creation aborts the process), and the session's kv rewrite is not done in vain
  const [tokenizer, config] = await Promise.all([loadTokenizer(model.path), services.config(model)]);
  const session = await services.session(model, { kvAppend: true });
  const causal = parseCausalConfig(config);
  return { tokenizer, causal, lm: new CausalLm(session, causal, model.id) };
}

/** Worker side: the continuation of `params.text`. */
export async function generate(
  params: GenerateParams,
  ctx: RequestContext<GenerateProgress>,
  services: WorkerServices,
): Promise<GenerateResult> {
  const { model, maxTokens, sampling, seed, stop, noCache, minTokens, repetitionPenalty } = params;
  const withProbs = params.tokenProbs;
  if (!GENERATE_KINDS.includes(model.kind)) throw badInput(`Model "${model.id}" (${model.kind}) cannot generate text.`);
  const { tokenizer, causal, lm } = await loadCausalLm(model, services);
  const useCache = !noCache && lm.canCache;

  // 1. tokenize; cut the prompt from the left so it fits the window with room to generate
  const read = encodeLmText(tokenizer, params.text, causal, true);
  const encoded = read.ids;
  if (encoded.length === 0) throw badInput('The text has no tokens for this model.');
  const keep = promptBudget(encoded.length, maxTokens, lm.contextSize);
  const kept = encoded.slice(encoded.length - keep);
  const texts = params.heal ? tokenTexts(tokenizer) : [];
  const healing = params.heal && !read.closed ? planHealing(texts, kept) : undefined;
  const prompt = healing ? kept.slice(0, -healing.ids.length) : kept; // what the model is given
  let pending = healing?.text ?? ''; // healed text the model has not written again yet
  let healedTokens = 0; // generated tokens that only re-wrote the healed text
  const random = mulberry32(seed ?? 0);
  const eos = new Set(causal.eosIds);
  const seen = new Set(repetitionPenalty !== 1 ? prompt : []); // every token of the text so far, for the penalty

  // 2-3. one token per step: run, choose, decode, stream
  const started = performance.now();
  let firstTokenMs = 0;
  let ids = [...prompt];
  const generated: number[] = [];
  const tokenProbs: number[] = []; // the model's own probability of each generated token (before penalty and sampling)
  const tokenEnds: number[] = []; // where each generated token's text ends in `completion`
  const decoder = new IncrementalDecoder(tokenizer, prompt);
  let cache: KvCache | undefined;
  const arena = new KvArena();
  let completion = '';
  let shown = 0;
  let lastSent = 0;
  let finishReason: GenerateResult['finishReason'] = 'length';
  // maxTokens and minTokens count new tokens: those that only re-wrote the healed text do not use up the budget
  while (generated.length - healedTokens < maxTokens) {
    await ctx.checkpoint();
    const window = slideWindow(ids, lm.contextSize);
    ids = window.ids;
    if (window.slid) cache = undefined; // positions start again at 0: run the whole window
    const input = useCache && cache ? ids.slice(-1) : ids;
    const step = await lm.step(input, useCache ? cache : undefined, useCache, arena);
    cache = step.cache;
    const row = logitsRow(step.logits, step.vocab, input.length - 1);
    const healingStep = pending !== '';
    if (healingStep) keepOnly(row, healingAllowed(texts, pending, healing!.ids[healedTokens] ?? -1)); // probability: share among them
    const norm = withProbs ? logSumExp(row) : 0;
    const early = generated.length - healedTokens < minTokens;
    const raw = withProbs && (repetitionPenalty !== 1 || early) ? row.slice() : row; // the next lines change row
    penalizeRepeats(row, seen, repetitionPenalty);
    if (early) for (const id of eos) if (id < row.length) row[id] = -Infinity;
    const next = chooseToken(row, sampling, random);
    if (generated.length === 0) firstTokenMs = performance.now() - started;
    if (eos.has(next)) {
      finishReason = 'eos';
      break;
    }
    ids.push(next);
    generated.push(next);
    if (repetitionPenalty !== 1) seen.add(next);
    const piece = decoder.push(next);
    if (healingStep) {
      const overlap = Math.min(pending.length, piece.length); // what the token wrote of the healed text
      completion += piece.slice(overlap);
      pending = pending.slice(overlap);
      if (overlap === piece.length) healedTokens++;
    } else {
      completion += piece;
    }
    if (withProbs) {
      tokenProbs.push(roundProb(Math.exp(raw[next]! - norm)));
      tokenEnds.push(completion.length);
    }
    const stopAt = stop.length > 0 ? findStop(completion, stop, shown - GENERATE_LIMITS.maxStopLength) : -1;
    if (stopAt !== -1) {
      completion = completion.slice(0, stopAt);
      for (let i = 0; i < tokenEnds.length; i++) tokenEnds[i] = Math.min(tokenEnds[i]!, stopAt);
      finishReason = 'stop';
      break;
    }
    const safe = completion.length - heldBack(completion, stop);
    const now = performance.now();
    if (safe > shown && (shown === 0 || now - lastSent >= STREAM_INTERVAL_MS)) {
      ctx.progress({ text: completion.slice(shown, safe), tokens: generated.length });
      shown = safe;
      lastSent = now;
    }
  }
  if (completion.length > shown) ctx.progress({ text: completion.slice(shown), tokens: generated.length });
  const ms = performance.now() - started;
  return {
    model: model.id,
    completion,
    tokens: generated.length,
    ms: round(ms),
    tokensPerSecond: generated.length === 0 ? 0 : round(generated.length / (ms / 1000)),
    firstTokenMs: round(firstTokenMs),
    promptTokens: prompt.length,
    truncated: kept.length < encoded.length,
    finishReason,
    cache: useCache,
    ...(withProbs ? { tokenProbs, tokenEnds } : {}),
    ...(healing ? { healed: healing.text, healedTokens } : {}),
    ...(seed === undefined ? {} : { seed }),
  };
}

const round = (x: number): number => Math.round(x * 100) / 100;
const roundProb = (p: number): number => Math.round(p * 1e6) / 1e6;
