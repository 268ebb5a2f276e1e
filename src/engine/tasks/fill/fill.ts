/**
 * The `fill` operation: a masked LM's candidates for each mask marker in a text (BERT family: bert,
 * distilbert, roberta, ...). With several masks, the combined sequences are filled jointly left to right:
 * a beam of `topK` partial fills, each extended with the best tokens for the next mask given the fills to
 * its left, scored by joint probability.
 *
 * Three phases: tokenize (markers -> the model's own mask token; a window around the masks when the text
 * is too long), run the model (only the inputs it declares; logits read by name), post-process (softmax
 * at each mask, top-k without special tokens or [unusedN] fillers, candidates put back into the text).
 *
 * Graph contract: inputs input_ids and optionally attention_mask, token_type_ids, position_ids (or the older
 * names input_mask, segment_ids; int64 or int32 as declared, see models/io.ts); output logits [B, T, V]
 * (or prediction_scores, or the first float output of that shape).
 */
import type { FillMask, FillPrediction, FillRequest, FillResult, FillSequence, ModelInfo, ModelKind } from '../../api';
import { LensError, badInput, modelCorrupt } from '../../errors';
import { checkModelId, checkText } from '../requestChecks';
import { findMaskMarkers, type MarkerSpan } from './maskMarkers';
import { positiveInt } from '../../models/configNumbers';
import { findLogitsOutput, noLogitsError, tokenFeeds, tokenInputs, type TokenInputs } from '../../models/io';
import type { RequestContext, WorkerServices } from '../../runtime/context';
import type { ModelSession } from '../../runtime/session';
import { logSoftmax, topKIndices } from '../../sampling';
import { loadTokenizer, type Tokenizer } from '../../tokenizer';

export const FILL_KINDS: readonly ModelKind[] = ['masked-lm'];

export const FILL_LIMITS = { defaultTopK: 5, maxTopK: 50, maxMasks: 8, maxTextLength: 100_000 } as const;

const MASK_TOKENS = ['[MASK]', '<mask>', '[mask]', '<MASK>'];
const DEFAULT_MAX_LENGTH = 512;
/** Vocabulary entries that are never a word: BERT's [unused0].., T5/Gemma-style <unused0>.., and special names. */
const NEVER_A_FILL = /^(\[unused\d+\]|<unused\d+>|\[(PAD|UNK|CLS|SEP|MASK|BOS|EOS)\]|<(s|\/s|pad|unk|mask|cls|sep)>|<\|[a-z_]+\|>)$/i;

export interface CheckedFillRequest {
  text: string;
  topK: number;
  model: string | undefined;
}

/** `fill` in the worker: the checked request (defaults filled in) with the resolved model. */
export type FillParams = Omit<CheckedFillRequest, 'model'> & { model: ModelInfo };

/** Host side: BAD_INPUT for empty text, no mask, too many masks, a bad top-k. */
export function checkFillRequest(request: FillRequest): CheckedFillRequest {
  const { text, topK = FILL_LIMITS.defaultTopK, model } = request;
  checkText(text);
  if (text.length > FILL_LIMITS.maxTextLength) {
    throw badInput(`The text is too long (${text.length} characters; at most ${FILL_LIMITS.maxTextLength}).`);
  }
  const masks = findMaskMarkers(text).length;
  if (masks === 0) throw badInput('The text has no mask: put [MASK] (or <mask>) where a word should be predicted.');
  if (masks > FILL_LIMITS.maxMasks) throw badInput(`The text has ${masks} masks; at most ${FILL_LIMITS.maxMasks} can be filled at once.`);
  if (!Number.isInteger(topK) || topK < 1 || topK > FILL_LIMITS.maxTopK) {
    throw badInput(`topK must be a whole number from 1 to ${FILL_LIMITS.maxTopK} (got ${String(topK)}).`);
  }
  checkModelId(model);
  return { text, topK, model };
}

interface MaskVocabulary {
  maskToken: string;
  maskId: number;
  /** Special tokens ([CLS], [PAD], ...): kept at the ends of a window, never offered as a fill. */
  specialIds: Set<number>;
  /** Never offered as a fill: the special tokens, the vocabulary's placeholders ([unused0], ...) and word-piece continuations. */
  excludedIds: Set<number>;
}

const excludedByTokenizer = new WeakMap<Tokenizer, Set<number>>();

/**
 * The special ids and every vocabulary entry that is a placeholder, a special name or a WordPiece continuation ("##s":
 * a mask stands for a whole word), one scan per tokenizer.
 */
function excludedIds(tokenizer: Tokenizer, specialIds: ReadonlySet<number>): Set<number> {
  let excluded = excludedByTokenizer.get(tokenizer);
  if (!excluded) {
    excluded = new Set(specialIds);
    for (const [token, id] of tokenizer.get_vocab(true)) {
      if (token.startsWith('##') || NEVER_A_FILL.test(token)) excluded.add(id);
    }
    excludedByTokenizer.set(tokenizer, excluded);
  }
  return excluded;
}

function maskVocabulary(tokenizer: Tokenizer, modelId: string): MaskVocabulary {
  const added = [...tokenizer.get_added_tokens_decoder().values()];
  const specialIds = new Set(added.filter((t) => t.special).map((t) => t.id));
  const vocabulary = (maskToken: string, maskId: number): MaskVocabulary => ({
    maskToken,
    maskId,
    specialIds,
    excludedIds: excludedIds(tokenizer, specialIds),
  });
  for (const candidate of MASK_TOKENS) {
    const token = added.find((t) => t.content === candidate);
    if (token) return vocabulary(token.content, token.id);
  }
  for (const candidate of MASK_TOKENS) {
    const id = tokenizer.token_to_id(candidate);
    if (id !== undefined) return vocabulary(candidate, id);
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
export async function runBatch(
  lm: Pick<MaskedLm, 'session' | 'inputs' | 'logitsName'>,
  rows: readonly number[][],
  modelId: string,
): Promise<{ logits: Float32Array; vocab: number; ms: number }> {
  const batch = rows.length;
  const length = rows[0]!.length;
  const feeds = tokenFeeds(lm.inputs, { ids: rows.flat(), batch, length }, modelId);
  const started = performance.now();
  const { [lm.logitsName]: logits } = await lm.session.run(feeds, [lm.logitsName]);
  const ms = performance.now() - started;
  if (!logits || logits.type !== 'float32' || logits.dims.length !== 3 || logits.dims[0] !== batch || logits.dims[1] !== length) {
    const got = logits ? `${logits.type} [${logits.dims.join(', ')}]` : 'nothing';
    throw modelCorrupt(`Model "${modelId}": "${lm.logitsName}" must be float32 [${batch}, ${length}, vocab]; got ${got}.`);
  }
  return { logits: logits.data, vocab: logits.dims[2]!, ms };
}

interface Candidate {
  id: number;
  token: string;
  logProb: number;
}

/**
 * The `k` most likely fills at one position (log-probabilities), skipping the excluded ids and entries that decode
 * to nothing or to part of a character (a byte-level BPE piece). Where many of the top entries are such pieces the
 * look goes deeper, down to the whole vocabulary, so that a mask always gets `k` fills when the vocabulary has them
 * (word pieces are excluded up front: at the middle of three masks they and empty entries had taken all but one of
 * the first 4k + 16 places).
 */
function bestFills(row: Float32Array, k: number, tokenizer: Tokenizer, excluded: ReadonlySet<number>): Candidate[] {
  const logProbs = logSoftmax(row);
  for (let depth = 4 * k + 16; ; depth *= 4) {
    const out: Candidate[] = [];
    for (const id of topKIndices(logProbs, depth, excluded)) {
      const token = tokenText(tokenizer, id);
      if (token === '' || token.includes('\uFFFD')) continue;
      out.push({ id, token, logProb: logProbs[id]! });
      if (out.length === k) return out;
    }
    if (depth >= logProbs.length) return out;
  }
}

/** A masked LM ready to run: its tokenizer, session, inputs, logits output, mask token, special tokens and longest input. */
export interface MaskedLm extends MaskVocabulary {
  tokenizer: Tokenizer;
  session: ModelSession;
  inputs: TokenInputs;
  /** The output holding the logits ([B, T, V]): `logits`, or `prediction_scores` and the like. */
  logitsName: string;
  maxLength: number;
}

/**
 * Loads a masked LM's tokenizer, config and session, and checks that the graph takes what a masked LM takes and
 * gives logits; BAD_INPUT naming its outputs when it has no masked-LM head (a classifier, a QA model).
 */
export async function loadMaskedLm(model: ModelInfo, services: WorkerServices): Promise<MaskedLm> {
  const [tokenizer, config, session] = await Promise.all([
    loadTokenizer(model.path),
    services.config(model),
    services.session(model),
  ]);
  const inputs = tokenInputs(session, model.id);
  const [unknown] = inputs.others;
  if (unknown) throw modelCorrupt(`Model "${model.id}" needs an input "${unknown}" that a masked LM does not have.`);
  const logitsName = findLogitsOutput(session.outputInfo, positiveInt(config['vocab_size']));
  if (!logitsName) throw noLogitsError(model.id, session.outputInfo, 'fill masks', 'masked-LM head (e.g. BertForMaskedLM)');
  return {
    tokenizer,
    session,
    inputs,
    logitsName,
    ...maskVocabulary(tokenizer, model.id),
    maxLength: maxSequenceLength(config, model.modelType),
  };
}

/** Worker side: the candidates for every mask in `params.text`. */
export async function fill(params: FillParams, ctx: RequestContext, services: WorkerServices): Promise<FillResult> {
  const started = performance.now();
  const { model, text, topK } = params;
  if (!FILL_KINDS.includes(model.kind)) throw badInput(`Model "${model.id}" (${model.kind}) cannot fill masks.`);
  const lm = await loadMaskedLm(model, services);
  const { tokenizer, maskToken, maskId, specialIds, excludedIds, maxLength } = lm;

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
  const first = await runBatch(lm, [ids], model.id);
  let runMs = first.ms;
  const rowAt = (logits: Float32Array, vocab: number, b: number, t: number): Float32Array =>
    logits.subarray((b * ids.length + t) * vocab, (b * ids.length + t + 1) * vocab);
  const perMask = positions.map((t) => bestFills(rowAt(first.logits, first.vocab, 0, t), topK, tokenizer, excludedIds));

  // 3. several masks: a beam over the masks, left to right (the first mask's fills come from the run above)
  interface Beam {
    ids: number[];
    fills: Candidate[];
    logProb: number;
  }
  let beams: Beam[] = perMask[0]!.map((c) => ({ ids: withToken(ids, positions[0]!, c.id), fills: [c], logProb: c.logProb }));
  for (let m = 1; m < positions.length && beams.length > 0; m++) {
    await ctx.checkpoint();
    const run = await runBatch(lm, beams.map((b) => b.ids), model.id);
    runMs += run.ms;
    const extended = beams.flatMap((beam, b) =>
      bestFills(rowAt(run.logits, run.vocab, b, positions[m]!), topK, tokenizer, excludedIds).map((c) => ({
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

/** Position embeddings the model has; RoBERTa-style models start positions at padding_idx + 1 = 2. */
function maxSequenceLength(config: Record<string, unknown>, modelType: string): number {
  const positions = positiveInt(config['max_position_embeddings']) ?? DEFAULT_MAX_LENGTH;
  const offset = ['roberta', 'xlm-roberta', 'camembert'].includes(modelType) ? 2 : 0;
  return Math.max(positions - offset, 8);
}
