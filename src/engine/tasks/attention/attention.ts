/**
 * The `attention` operation: a transformer's attention weights over a text (BERT-style masked LMs, GPT-2-style
 * causal LMs, and downloaded models whose graph exposes them). Runs in the worker on services handed to it;
 * it never imports ONNX Runtime.
 *
 * Three phases:
 *   1. tokenize: the text is cut into whitespace-led chunks (`" bank."`), each encoded alone, so every token
 *      knows the span of text it came from; chunks are taken outwards from the focus until the window is full;
 *      the model's special tokens ([CLS] ... [SEP]) are added around the window.
 *   2. run the model with the feeds its graph declares (ids, mask, type ids, positions, an empty past), under
 *      any exporter's names and in the declared integer type (models/io.ts).
 *   3. post-process: copy the attention outputs into one [layer][head][query][key] array; for causal models
 *      also each token's surprisal and the top-k next tokens at each position, from the same run's logits.
 */
import type { AttentionRequest, AttentionResult, ModelInfo, TokenCandidate } from '../../api';
import { ATTENTION_KINDS, attentionOutputNames, collectAttentions } from './attentionTensor';
import { badInput, modelCorrupt } from '../../errors';
import { checkModelId, checkText } from '../requestChecks';
import { firstPositiveInt } from '../../models/configNumbers';
import { joinParagraphs, parseLineBreaks, spanIn, type LineBreaks } from '../../models/lmText';
import { findLogitsOutput, tokenFeeds, tokenInputs } from '../../models/io';
import { cacheLayoutOf, isPastInput } from '../../models/kvCache';
import type { RequestContext, WorkerServices } from '../../runtime/context';
import { transferring } from '../../runtime/transfer';
import type { HostTensor, ModelSession } from '../../runtime/session';
import { loadTokenizer, type Tokenizer } from '../../tokenizer';


/** Most text tokens one request may ask for (special tokens excluded). */
export const MAX_ATTENTION_TOKENS = 512;
/** Next-token candidates kept per position by default (causal models). */
export const DEFAULT_TOP_K = 5;
const MAX_TOP_K = 50;

export interface CheckedAttentionRequest {
  text: string;
  model: string | undefined;
  focus: number;
  maxTokens: number | undefined;
  topK: number;
}

/** `attention` in the worker: the checked request with the resolved model. */
export interface AttentionParams {
  model: ModelInfo;
  text: string;
  focus: number;
  maxTokens: number | undefined;
  topK: number;
}

/** Host side: BAD_INPUT for a malformed request. */
export function checkAttentionRequest(request: AttentionRequest): CheckedAttentionRequest {
  const { text, model, focus = 0, maxTokens, topK = DEFAULT_TOP_K } = request;
  checkText(text);
  checkModelId(model);
  if (!Number.isInteger(focus) || focus < 0 || focus > text.length) {
    throw badInput(`focus must be an offset into the text, 0 to ${text.length} (got ${focus}).`);
  }
  if (maxTokens !== undefined && (!Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > MAX_ATTENTION_TOKENS)) {
    throw badInput(`maxTokens must be a whole number from 1 to ${MAX_ATTENTION_TOKENS} (got ${maxTokens}).`);
  }
  if (!Number.isInteger(topK) || topK < 0 || topK > MAX_TOP_K) {
    throw badInput(`topK must be a whole number from 0 to ${MAX_TOP_K} (got ${topK}).`);
  }
  return { text, model, focus, maxTokens, topK };
}

// ---------------------------------------------------------------------------------------------------------
// config

export interface TransformerConfig {
  /** Positions the model was trained on (max_position_embeddings / n_positions). */
  positions: number;
  /** For the empty past of causal graphs with past_key_values inputs. */
  kvHeads: number | undefined;
  headDim: number | undefined;
  /** config.json vocab_size, when given (tells a causal model's logits from its hidden states). */
  vocabSize?: number | undefined;
  /** How the model reads line breaks (models/lmText.ts): 'paragraphs' for a model that never saw one. */
  lineBreaks: LineBreaks;
}

export function parseTransformerConfig(config: Record<string, unknown>): TransformerConfig {
  const heads = firstPositiveInt(config, ['num_attention_heads', 'n_head', 'num_heads']);
  const hidden = firstPositiveInt(config, ['hidden_size', 'n_embd', 'd_model']);
  const headDim = firstPositiveInt(config, ['head_dim']) ?? (heads && hidden && hidden % heads === 0 ? hidden / heads : undefined);
  return {
    positions: firstPositiveInt(config, ['max_position_embeddings', 'n_positions', 'n_ctx']) ?? MAX_ATTENTION_TOKENS,
    kvHeads: firstPositiveInt(config, ['num_key_value_heads', 'n_head_kv']) ?? heads,
    headDim,
    vocabSize: firstPositiveInt(config, ['vocab_size']),
    lineBreaks: parseLineBreaks(config),
  };
}

// ---------------------------------------------------------------------------------------------------------
// 1. tokenize

export interface TokenWindow {
  ids: number[];
  /** Display text of each token. */
  tokens: string[];
  /** [start, end) in the request text of the chunk each token came from; null for special tokens. */
  spans: ([number, number] | null)[];
  special: boolean[];
  /** True when tokens of the text were left out. */
  truncated: boolean;
}

/** Whitespace-led chunks: each is encoded alone (both BERT's and GPT-2's pre-tokenizers split there). */
const CHUNK = /\s*\S+/g;

/** The special tokens a tokenizer puts before and after a single text (e.g. [CLS] and [SEP]). */
export function specialAffixes(tokenizer: Tokenizer): { prefix: number[]; suffix: number[] } {
  const probe = 'a';
  const bare = tokenizer.encode(probe, { add_special_tokens: false }).ids;
  const full = tokenizer.encode(probe, { add_special_tokens: true }).ids;
  for (let at = 0; at + bare.length <= full.length; at++) {
    if (bare.every((id, i) => full[at + i] === id)) return { prefix: full.slice(0, at), suffix: full.slice(at + bare.length) };
  }
  return { prefix: [], suffix: [] };
}

/** How a token is shown: decoded text for byte-level BPE ("Ġbank" -> " bank"), the piece itself otherwise. */
export function displayToken(tokenizer: Tokenizer, id: number, piece: string | undefined): string {
  if (piece !== undefined && (piece.startsWith('##') || /^\[[A-Z]+\]$|^<[^>]+>$/.test(piece))) return piece;
  const text = tokenizer.decode([id], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  return text === '' ? (piece ?? String(id)) : text;
}

/**
 * Tokens of `text` for the model: at most `max` text tokens around the character `focus`, between the model's
 * special tokens. `lineBreaks` 'paragraphs' (a model that never saw a line break): the text is read as `score` and
 * generation read it (models/lmText.ts: a line break inside a paragraph is a space, list markers, heading hashes
 * and inline Markdown markup are not read), its paragraphs joined by a space (the view shows one window of tokens,
 * with no end-of-text inside it); spans point into `text` as written.
 */
export function tokenWindow(tokenizer: Tokenizer, text: string, focus: number, max: number, lineBreaks: LineBreaks = 'keep'): TokenWindow {
  if (lineBreaks === 'keep') return windowOf(tokenizer, text, focus, max);
  const { read, at } = joinParagraphs(text);
  const inRead = at.findIndex((i) => i >= focus); // the focus on a dropped marker or break: the next character read
  const window = windowOf(tokenizer, read, inRead < 0 ? read.length : inRead, max);
  return { ...window, spans: window.spans.map((span) => (span === null ? null : spanIn(at, span))) };
}

function windowOf(tokenizer: Tokenizer, text: string, focus: number, max: number): TokenWindow {
  const chunks: { start: number; end: number; raw: string }[] = [];
  for (const match of text.matchAll(CHUNK)) {
    const lead = match[0].length - match[0].trimStart().length;
    chunks.push({ start: match.index + lead, end: match.index + match[0].length, raw: match[0] });
  }
  if (chunks.length === 0) throw badInput('The text has no tokens.');
  let center = chunks.findIndex((c) => focus < c.end);
  if (center < 0) center = chunks.length - 1;

  const encoded = new Map<number, { ids: number[]; pieces: string[] }>();
  const encode = (i: number): number => {
    const e = tokenizer.encode(chunks[i]!.raw, { add_special_tokens: false });
    encoded.set(i, { ids: e.ids, pieces: e.tokens });
    return e.ids.length;
  };
  // take chunks outwards from the focus, right first, until the window is full or the text is used up
  let count = encode(center);
  let left = center;
  let right = center;
  while (count < max && (left > 0 || right < chunks.length - 1)) {
    if (right < chunks.length - 1) count += encode(++right);
    if (count < max && left > 0) count += encode(--left);
  }

  const ids: number[] = [];
  const pieces: string[] = [];
  const spans: [number, number][] = [];
  let focusToken = 0;
  for (let i = left; i <= right; i++) {
    const { ids: chunkIds, pieces: chunkPieces } = encoded.get(i)!;
    if (i === center) focusToken = ids.length;
    chunkIds.forEach((id, k) => {
      ids.push(id);
      pieces.push(chunkPieces[k] ?? '');
      spans.push([chunks[i]!.start, chunks[i]!.end]);
    });
  }
  if (ids.length === 0) throw badInput('The text has no tokens the model knows.');
  // too many tokens: keep `max` of them around the focus token
  const from = ids.length <= max ? 0 : Math.min(Math.max(focusToken - Math.floor(max / 2), 0), ids.length - max);
  const to = Math.min(ids.length, from + max);
  const truncated = left > 0 || right < chunks.length - 1 || from > 0 || to < ids.length;

  const { prefix, suffix } = specialAffixes(tokenizer);
  const window: TokenWindow = { ids: [], tokens: [], spans: [], special: [], truncated };
  const add = (id: number, piece: string | undefined, span: [number, number] | null): void => {
    window.ids.push(id);
    window.tokens.push(displayToken(tokenizer, id, piece));
    window.spans.push(span);
    window.special.push(span === null);
  };
  for (const id of prefix) add(id, tokenizer.id_to_token(id), null);
  for (let i = from; i < to; i++) add(ids[i]!, pieces[i], spans[i]!);
  for (const id of suffix) add(id, tokenizer.id_to_token(id), null);
  return window;
}

// ---------------------------------------------------------------------------------------------------------
// 2. run


/**
 * Feeds for every input the graph declares, for one sequence and no past: the token inputs under any exporter's
 * names and in their declared integer type (models/io.ts), an empty past, use_cache_branch false.
 */
export function transformerFeeds(
  declared: Pick<ModelSession, 'inputNames' | 'inputInfo'>,
  ids: readonly number[],
  config: Pick<TransformerConfig, 'kvHeads' | 'headDim'>,
  modelId: string,
): Record<string, HostTensor> {
  const inputs = tokenInputs(declared, modelId);
  const feeds = tokenFeeds(inputs, { ids, batch: 1, length: ids.length }, modelId);
  const cache = cacheLayoutOf(inputs.others, [], modelId);
  for (const name of inputs.others) {
    if (name === 'use_cache_branch') feeds[name] = { type: 'bool', data: Uint8Array.of(0), dims: [1] };
    else if (cache && isPastInput(name)) {
      if (config.kvHeads === undefined || config.headDim === undefined) {
        throw modelCorrupt(
          `Model "${modelId}" takes a key/value cache (${name}) but config.json does not give the head count and width.`,
        );
      }
      feeds[name] = { type: 'float32', data: new Float32Array(0), dims: cache.emptyDims(config.kvHeads, config.headDim) };
    } else {
      throw modelCorrupt(`Model "${modelId}" needs an input "${name}" that the attention viewer cannot feed.`);
    }
  }
  return feeds;
}

// ---------------------------------------------------------------------------------------------------------
// 3. post-process (causal models)

/**
 * From logits [1, T, V]: the surprisal in bits of each token given those before it (null for the first), and
 * the `k` most likely next tokens after each position.
 */
export function surprisalAndNext(
  logits: HostTensor,
  ids: readonly number[],
  k: number,
  decode: (id: number) => string,
): { surprisal: (number | null)[]; next: TokenCandidate[][] } {
  const t = ids.length;
  if (logits.type !== 'float32' || logits.dims.length !== 3 || logits.dims[1] !== t) {
    throw modelCorrupt(`"logits" must be float32 [1, ${t}, vocab]; got ${logits.type} [${logits.dims.join(', ')}].`);
  }
  const vocab = logits.dims[2]!;
  const surprisal: (number | null)[] = [null];
  const next: TokenCandidate[][] = [];
  for (let p = 0; p < t; p++) {
    const row = logits.data.subarray(p * vocab, (p + 1) * vocab);
    let max = -Infinity;
    for (let v = 0; v < vocab; v++) if (row[v]! > max) max = row[v]!;
    let sum = 0;
    for (let v = 0; v < vocab; v++) sum += Math.exp(row[v]! - max);
    const logSum = max + Math.log(sum);
    if (p + 1 < t) surprisal.push((logSum - row[ids[p + 1]!]!) / Math.LN2);
    next.push(topK(row, k).map((id) => ({ id, token: decode(id), probability: Math.exp(row[id]! - logSum) })));
  }
  return { surprisal, next };
}

/** Indexes of the k largest values, largest first (one pass, a small sorted buffer). */
export function topK(values: Float32Array, k: number): number[] {
  const best: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (best.length === k && values[i]! <= values[best[k - 1]!]!) continue;
    let at = best.length;
    while (at > 0 && values[best[at - 1]!]! < values[i]!) at--;
    best.splice(at, 0, i);
    if (best.length > k) best.pop();
  }
  return best;
}

// ---------------------------------------------------------------------------------------------------------

/** Worker side: the attention weights of `params.model` over `params.text`. */
export async function attention(
  params: AttentionParams,
  ctx: RequestContext,
  services: WorkerServices,
): Promise<AttentionResult> {
  const { model } = params;
  if (!ATTENTION_KINDS.includes(model.kind)) {
    throw badInput(`Model "${model.id}" (${model.kind}) has no attention to show; pick a BERT or GPT-2 style model.`);
  }
  const config = parseTransformerConfig(await services.config(model));
  // a plain HF export has no attention outputs: the worker rewrites its graph once to add them (runtime/exposed.ts)
  const session = await services.session(model, { expose: { attentions: true } });
  const attentionNames = attentionOutputNames(session.outputNames);
  if (attentionNames.length === 0) {
    throw badInput(
      `Model "${model.id}" does not expose its attention weights (outputs: ${session.outputNames.join(', ')}).`,
    );
  }

  // 1. tokenize
  const tokenizer = await loadTokenizer(model.path);
  const { prefix, suffix } = specialAffixes(tokenizer);
  const room = config.positions - prefix.length - suffix.length;
  if (room < 1) throw modelCorrupt(`Model "${model.id}" has no room for text (${config.positions} positions).`);
  const max = Math.min(params.maxTokens ?? MAX_ATTENTION_TOKENS, room);
  const window = tokenWindow(tokenizer, params.text, params.focus, max, config.lineBreaks);
  await ctx.checkpoint();

  // 2. run
  const causal = model.kind === 'causal-lm';
  const logitsName = causal ? findLogitsOutput(session.outputInfo, config.vocabSize) : undefined;
  const feeds = transformerFeeds(session, window.ids, config, model.id);
  const outputs = await session.run(feeds, logitsName ? [...attentionNames, logitsName] : attentionNames);
  await ctx.checkpoint();

  // 3. post-process
  const { shape, data } = collectAttentions(outputs, attentionNames, window.ids.length);
  const result: AttentionResult = {
    model: model.id,
    kind: model.kind,
    tokens: window.tokens,
    ids: window.ids,
    spans: window.spans,
    special: window.special,
    layers: shape.layers,
    heads: shape.heads,
    attentions: data,
    truncated: window.truncated,
  };
  const logits = logitsName ? outputs[logitsName] : undefined;
  if (logits) {
    const decode = (id: number): string => displayToken(tokenizer, id, tokenizer.id_to_token(id));
    const { surprisal, next } = surprisalAndNext(logits, window.ids, params.topK, decode);
    result.surprisal = surprisal;
    if (params.topK > 0) result.next = next;
  }
  // `data` was made for this reply (collectAttentions copies out of the session's outputs): move it, don't copy it
  return transferring(result, [data.buffer]);
}
