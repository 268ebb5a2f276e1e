/**
 * The `fill` operation: a masked LM's candidates for each mask marker in a text (BERT family: bert,
 * distilbert, roberta, ...). With several masks, the combined sequences are filled jointly left to right:
 * a beam of `topK` partial fills, each extended with the best tokens for the next mask given the fills to
 * its left, scored by joint probability.
 *
 * Three phases: tokenize (markers -> the model's own mask token; a window around the masks when the text
 * is too long), run the model (only the inputs it declares; logits read by name), post-process (softmax
 * at each mask, top-k without special tokens, candidates put back into the text).
 *
 * Graph contract: inputs input_ids and optionally attention_mask, token_type_ids, position_ids;
 * output logits [B, T, V].
 */
import type { FillMask, FillPrediction, FillRequest, FillResult, FillSequence, ModelInfo, ModelKind } from './api';
import { LensError, badInput, modelCorrupt } from './errors';
import { findMaskMarkers, type MarkerSpan } from './maskMarkers';
import type { WorkerServices } from './embed';
import type { FillParams } from './runtime/protocol';
import type { RequestContext } from './runtime/server';
import type { HostTensor, ModelSession } from './runtime/session';
import { logSoftmax, topKIndices } from './sampling';
import { loadTokenizer, type Tokenizer } from './tokenizer';

export const FILL_KINDS: readonly ModelKind[] = ['masked-lm'];

export const FILL_LIMITS = { defaultTopK: 5, maxTopK: 50, maxMasks: 8, maxTextLength: 100_000 } as const;

const MASK_TOKENS = ['[MASK]', '<mask>', '[mask]', '<MASK>'];
const LOGITS = 'logits';
const KNOWN_INPUTS = new Set(['input_ids', 'attention_mask', 'token_type_ids', 'position_ids']);
const DEFAULT_MAX_LENGTH = 512;

export interface CheckedFillRequest {
  text: string;
  topK: number;
  model: string | undefined;
}

/** Host side: BAD_INPUT for empty text, no mask, too many masks, a bad top-k. */
export function checkFillRequest(request: FillRequest): CheckedFillRequest {
  const { text, topK = FILL_LIMITS.defaultTopK, model } = request;
  if (typeof text !== 'string' || text.trim() === '') throw badInput('The text is empty.');
  if (text.length > FILL_LIMITS.maxTextLength) {
    throw badInput(`The text is too long (${text.length} characters; at most ${FILL_LIMITS.maxTextLength}).`);
  }
  const masks = findMaskMarkers(text).length;
  if (masks === 0) throw badInput('The text has no mask: put [MASK] (or <mask>) where a word should be predicted.');
  if (masks > FILL_LIMITS.maxMasks) throw badInput(`The text has ${masks} masks; at most ${FILL_LIMITS.maxMasks} can be filled at once.`);
  if (!Number.isInteger(topK) || topK < 1 || topK > FILL_LIMITS.maxTopK) {
    throw badInput(`topK must be a whole number from 1 to ${FILL_LIMITS.maxTopK} (got ${String(topK)}).`);
  }
  if (model !== undefined && (typeof model !== 'string' || model === '')) throw badInput('The model id is empty.');
  return { text, topK, model };
}

interface MaskVocabulary {
  maskToken: string;
  maskId: number;
  /** Special tokens ([CLS], [PAD], ...): never offered as a fill. */
  specialIds: Set<number>;
}

function maskVocabulary(tokenizer: Tokenizer, modelId: string): MaskVocabulary {
  const added = [...tokenizer.get_added_tokens_decoder().values()];
  const specialIds = new Set(added.filter((t) => t.special).map((t) => t.id));
  for (const candidate of MASK_TOKENS) {
    const token = added.find((t) => t.content === candidate);
    if (token) return { maskToken: token.content, maskId: token.id, specialIds };
  }
  for (const candidate of MASK_TOKENS) {
    const id = tokenizer.token_to_id(candidate);
    if (id !== undefined) return { maskToken: candidate, maskId: id, specialIds };
  }
  throw modelCorrupt(`Model "${modelId}": its tokenizer has no mask token ([MASK] or <mask>).`);
}

/** A vocabulary entry as it goes into text: decoded, without a word-piece "##", trimmed. */
function tokenText(tokenizer: Tokenizer, id: number): string {
  return tokenizer.decode([id], { skip_special_tokens: false }).replace(/^##/, '').trim();
}

/** `text` with the markers at `spans` replaced by `fills` (undefined: left as is). */
function fillText(text: string, spans: readonly MarkerSpan[], fills: readonly (string | undefined)[]): string {
  let out = '';
  let at = 0;
  spans.forEach((span, i) => {
    const fill = fills[i];
    out += text.slice(at, span.start) + (fill ?? text.slice(span.start, span.end));
    at = span.end;
  });
  return out + text.slice(at);
}

/**
 * Cuts `ids` to at most `maxLength` tokens, keeping the special tokens at both ends and a window of the
 * text centred on the masks; INPUT_TOO_LONG when the masks alone are too far apart.
 */
export function windowAroundMasks(
  ids: readonly number[],
  maskPositions: readonly number[],
  specialIds: ReadonlySet<number>,
  maxLength: number,
): { ids: number[]; truncated: boolean } {
  if (ids.length <= maxLength) return { ids: [...ids], truncated: false };
  let head = 0;
  while (head < ids.length && specialIds.has(ids[head]!) && !maskPositions.includes(head)) head++;
  let tail = ids.length;
  while (tail > head && specialIds.has(ids[tail - 1]!) && !maskPositions.includes(tail - 1)) tail--;
  const room = maxLength - head - (ids.length - tail);
  const first = Math.min(...maskPositions);
  const last = Math.max(...maskPositions);
  if (last - first + 1 > room) {
    throw new LensError(
      'INPUT_TOO_LONG',
      `The masks span ${last - first + 1} tokens; the model sees at most ${room} at once. Put them closer together.`,
    );
  }
  const spare = room - (last - first + 1);
  let start = Math.max(head, first - Math.floor(spare / 2));
  const end = Math.min(tail, start + room);
  start = Math.max(head, end - room);
  return { ids: [...ids.slice(0, head), ...ids.slice(start, end), ...ids.slice(tail)], truncated: true };
}

/** Runs a batch of equally long id rows; returns logits [B, T, V] and the time in session.run. */
export async function runBatch(session: ModelSession, rows: readonly number[][], modelId: string): Promise<{ logits: Float32Array; vocab: number; ms: number }> {
  const batch = rows.length;
  const length = rows[0]!.length;
  const feeds: Record<string, HostTensor> = {
    input_ids: { type: 'int64', data: BigInt64Array.from(rows.flat(), (id) => BigInt(id)), dims: [batch, length] },
  };
  const inputs = new Set(session.inputNames);
  const filled = (value: bigint): HostTensor => ({ type: 'int64', data: new BigInt64Array(batch * length).fill(value), dims: [batch, length] });
  if (inputs.has('attention_mask')) feeds['attention_mask'] = filled(1n);
  if (inputs.has('token_type_ids')) feeds['token_type_ids'] = filled(0n);
  if (inputs.has('position_ids')) {
    const positions = new BigInt64Array(batch * length);
    for (let b = 0; b < batch; b++) for (let t = 0; t < length; t++) positions[b * length + t] = BigInt(t);
    feeds['position_ids'] = { type: 'int64', data: positions, dims: [batch, length] };
  }
  const started = performance.now();
  const { [LOGITS]: logits } = await session.run(feeds, [LOGITS]);
  const ms = performance.now() - started;
  if (!logits || logits.type !== 'float32' || logits.dims.length !== 3 || logits.dims[0] !== batch || logits.dims[1] !== length) {
    const got = logits ? `${logits.type} [${logits.dims.join(', ')}]` : 'nothing';
    throw modelCorrupt(`Model "${modelId}": "${LOGITS}" must be float32 [${batch}, ${length}, vocab]; got ${got}.`);
  }
  return { logits: logits.data, vocab: logits.dims[2]!, ms };
}

interface Candidate {
  id: number;
  token: string;
  logProb: number;
}

/**
 * The `k` most likely fills at one position (log-probabilities), skipping special and empty tokens and
 * WordPiece continuations ("##s"): a mask stands for a whole word.
 */
function bestFills(row: Float32Array, k: number, tokenizer: Tokenizer, special: ReadonlySet<number>): Candidate[] {
  const logProbs = logSoftmax(row);
  const out: Candidate[] = [];
  for (const id of topKIndices(logProbs, 4 * k + 16, special)) {
    if (tokenizer.id_to_token(id)?.startsWith('##')) continue;
    const token = tokenText(tokenizer, id);
    if (token === '' || token.includes('\uFFFD')) continue;
    out.push({ id, token, logProb: logProbs[id]! });
    if (out.length === k) break;
  }
  return out;
}

/** A masked LM ready to run: its tokenizer, session, mask token, special tokens and longest input. */
export interface MaskedLm extends MaskVocabulary {
  tokenizer: Tokenizer;
  session: ModelSession;
  maxLength: number;
}

/** Loads a masked LM's tokenizer, config and session, and checks that the graph takes what a masked LM takes. */
export async function loadMaskedLm(model: ModelInfo, services: WorkerServices): Promise<MaskedLm> {
  const [tokenizer, config, session] = await Promise.all([
    loadTokenizer(model.path),
    services.config(model),
    services.session(model),
  ]);
  if (!session.inputNames.includes('input_ids')) throw modelCorrupt(`Model "${model.id}" has no "input_ids" input.`);
  const unknown = session.inputNames.find((name) => !KNOWN_INPUTS.has(name));
  if (unknown) throw modelCorrupt(`Model "${model.id}" needs an input "${unknown}" that a masked LM does not have.`);
  return { tokenizer, session, ...maskVocabulary(tokenizer, model.id), maxLength: maxSequenceLength(config, model.modelType) };
}

/** Worker side: the candidates for every mask in `params.text`. */
export async function fill(params: FillParams, ctx: RequestContext, services: WorkerServices): Promise<FillResult> {
  const started = performance.now();
  const { model, text, topK } = params;
  if (!FILL_KINDS.includes(model.kind)) throw badInput(`Model "${model.id}" (${model.kind}) cannot fill masks.`);
  const { tokenizer, session, maskToken, maskId, specialIds, maxLength } = await loadMaskedLm(model, services);

  // 1. tokenize: every marker becomes the model's mask token
  const tokenizeStarted = performance.now();
  const spans = findMaskMarkers(text);
  const encoded = tokenizer.encode(fillText(text, spans, spans.map(() => maskToken))).ids;
  const positionsIn = (ids: readonly number[]): number[] => ids.flatMap((id, i) => (id === maskId ? [i] : []));
  const { ids, truncated } = windowAroundMasks(encoded, positionsIn(encoded), specialIds, maxLength);
  const positions = positionsIn(ids);
  if (positions.length !== spans.length) {
    throw badInput(`Model "${model.id}" saw ${positions.length} of the ${spans.length} masks; write them as ${maskToken} between words.`);
  }
  const tokenizeMs = performance.now() - tokenizeStarted;

  // 2. run with every mask masked: each mask's own candidates
  await ctx.checkpoint();
  const first = await runBatch(session, [ids], model.id);
  let runMs = first.ms;
  const rowAt = (logits: Float32Array, vocab: number, b: number, t: number): Float32Array =>
    logits.subarray((b * ids.length + t) * vocab, (b * ids.length + t + 1) * vocab);
  const perMask = positions.map((t) => bestFills(rowAt(first.logits, first.vocab, 0, t), topK, tokenizer, specialIds));

  // 3. several masks: a beam over the masks, left to right (the first mask's fills come from the run above)
  interface Beam {
    ids: number[];
    fills: Candidate[];
    logProb: number;
  }
  let beams: Beam[] = perMask[0]!.map((c) => ({ ids: withToken(ids, positions[0]!, c.id), fills: [c], logProb: c.logProb }));
  for (let m = 1; m < positions.length && beams.length > 0; m++) {
    await ctx.checkpoint();
    const run = await runBatch(session, beams.map((b) => b.ids), model.id);
    runMs += run.ms;
    const extended = beams.flatMap((beam, b) =>
      bestFills(rowAt(run.logits, run.vocab, b, positions[m]!), topK, tokenizer, specialIds).map((c) => ({
        ids: withToken(beam.ids, positions[m]!, c.id),
        fills: [...beam.fills, c],
        logProb: beam.logProb + c.logProb,
      })),
    );
    beams = extended.sort((a, b) => b.logProb - a.logProb).slice(0, topK);
  }

  const masks: FillMask[] = spans.map((span, index) => ({
    index,
    start: span.start,
    end: span.end,
    predictions: perMask[index]!.map(
      (c): FillPrediction => ({
        token: c.token,
        tokenId: c.id,
        score: Math.exp(c.logProb),
        sequence: fillText(text, spans, spans.map((_, i) => (i === index ? c.token : undefined))),
      }),
    ),
  }));
  const sequences: FillSequence[] = beams.map((beam) => ({
    tokens: beam.fills.map((c) => c.token),
    tokenIds: beam.fills.map((c) => c.id),
    score: Math.exp(beam.logProb),
    sequence: fillText(text, spans, beam.fills.map((c) => c.token)),
  }));
  const round = (x: number): number => Math.round(x * 1000) / 1000;
  return {
    model: model.id,
    masks,
    sequences,
    truncated,
    timings: { tokenizeMs: round(tokenizeMs), runMs: round(runMs), totalMs: round(performance.now() - started) },
  };
}

function withToken(ids: readonly number[], position: number, id: number): number[] {
  const copy = [...ids];
  copy[position] = id;
  return copy;
}

function positiveInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

/** Position embeddings the model has; RoBERTa-style models start positions at padding_idx + 1 = 2. */
function maxSequenceLength(config: Record<string, unknown>, modelType: string): number {
  const positions = positiveInt(config['max_position_embeddings']) ?? DEFAULT_MAX_LENGTH;
  const offset = ['roberta', 'xlm-roberta', 'camembert'].includes(modelType) ? 2 : 0;
  return Math.max(positions - offset, 8);
}
