/**
 * Running a tagger over a window of words (worker side, on sessions handed to it; no ONNX Runtime import).
 * Three phases, as everywhere: words -> model inputs, run, per-word softmax over the tagger's labels.
 *
 *   ELMo head: the base ELMo's `hidden_states` (one run, which the hover's embedding may already have made) go into
 *     the head unchanged; its logits have one row per row of that tensor, <S> and </S> included, so word i is row
 *     i + offset.
 *   Token classifier: each word is encoded alone (with a leading space when the text has one before it, so byte-level
 *     BPE sees " bank" as in running text), between the model's special tokens; a word's tag is the softmax of its
 *     first (or last, `word_piece`) piece's logits.
 */
import type { ModelInfo, TagCandidate, TaggerInfo } from '../../api';
import { specialAffixes } from '../attention/attention';
import { elmoHiddenStates, parseElmoConfig, type ElmoHidden } from '../../models/elmo';
import { LensError, modelCorrupt } from '../../errors';
import { tokenFeeds, tokenInputs } from '../../models/io';
import type { WorkerServices } from '../../runtime/context';
import type { HostTensor, ModelSession } from '../../runtime/session';
import { loadTokenizer } from '../../tokenizer';
import type { Word } from '../../words';
import { ELMO_HEAD_INPUT, ELMO_HEAD_MASK, TAGGER_LOGITS, taggerLogitsName } from './taggers';

/** Per word of a window: the probability of each label, in label order. */
export type TagProbabilities = Float32Array[];

function taggerOf(model: ModelInfo): TaggerInfo {
  if (model.kind !== 'tagger' || !model.tagger) throw new LensError('INTERNAL', `Model "${model.id}" is not a tagger.`);
  return model.tagger;
}

/** Softmax of `n` logits starting at `from`. */
export function softmaxAt(data: Float32Array, from: number, n: number): Float32Array {
  const out = new Float32Array(n);
  let max = -Infinity;
  for (let k = 0; k < n; k++) max = Math.max(max, data[from + k]!);
  let sum = 0;
  for (let k = 0; k < n; k++) sum += out[k] = Math.exp(data[from + k]! - max);
  for (let k = 0; k < n; k++) out[k]! /= sum;
  return out;
}

/** The `topK` most likely labels, best first (ties: label order). */
export function topTags(labels: readonly string[], probabilities: Float32Array, topK: number): TagCandidate[] {
  return labels
    .map((tag, k) => ({ tag, p: probabilities[k]!, k }))
    .sort((a, b) => b.p - a.p || a.k - b.k)
    .slice(0, Math.max(1, topK))
    .map(({ tag, p }) => ({ tag, p: Math.round(p * 1e6) / 1e6 }));
}

function logitsTensor(out: Record<string, HostTensor>, name: string, model: ModelInfo, rows: number, labels: number): Float32Array {
  const logits = out[name];
  if (!logits || logits.type !== 'float32' || logits.dims.length !== 3 || logits.dims[0] !== 1 || logits.dims[1] !== rows) {
    const got = logits ? `${logits.type} [${logits.dims.join(', ')}]` : 'nothing';
    throw modelCorrupt(`Tagger "${model.id}": "${name}" must be float32 [1, ${rows}, ${labels}]; got ${got}.`);
  }
  if (logits.dims[2] !== labels) {
    throw modelCorrupt(`Tagger "${model.id}": "${name}" has ${logits.dims[2]} tags per position but config.json names ${labels}.`);
  }
  return logits.data;
}

/**
 * ELMo head: the tags of an ELMo run's words from its hidden states (the head's only run). MODEL_CORRUPT when the
 * head's declared input does not fit what the base gives.
 */
export async function elmoHeadProbabilities(head: ModelSession, model: ModelInfo, run: ElmoHidden): Promise<TagProbabilities> {
  const tagger = taggerOf(model);
  if (!head.inputNames.includes(ELMO_HEAD_INPUT) || !head.outputNames.includes(TAGGER_LOGITS)) {
    throw modelCorrupt(
      `Tagger "${model.id}" must take "${ELMO_HEAD_INPUT}" and output "${TAGGER_LOGITS}" ` +
        `(inputs: ${head.inputNames.join(', ')}; outputs: ${head.outputNames.join(', ')}).`,
    );
  }
  const dims = run.hidden.dims;
  const declared = head.inputInfo.find((i) => i.name === ELMO_HEAD_INPUT)?.shape;
  const fits = !declared || (declared.length === 4 && [0, 3].every((d) => typeof declared[d] !== 'number' || declared[d] === dims[d]));
  if (!fits) {
    throw modelCorrupt(
      `Tagger "${model.id}" reads ${ELMO_HEAD_INPUT} [${declared!.map((d) => d ?? '?').join(', ')}] but its base ELMo ` +
        `"${tagger.base}" gives [${dims.join(', ')}]: the head was trained on another ELMo.`,
    );
  }
  // a head that reads the ELMo's attention mask too (pipeline exports: a BiLSTM head packs by it) gets all ones:
  // the run is one unpadded sentence
  const feeds: Record<string, HostTensor> = { [ELMO_HEAD_INPUT]: run.hidden };
  const seq = dims[2]!;
  const mask = head.inputInfo.find((i) => i.name === ELMO_HEAD_MASK);
  if (mask) {
    feeds[ELMO_HEAD_MASK] =
      mask.type === 'int32'
        ? { type: 'int32', data: new Int32Array(seq).fill(1), dims: [1, seq] }
        : { type: 'int64', data: new BigInt64Array(seq).fill(1n), dims: [1, seq] };
  }
  const unknown = head.inputNames.filter((name) => !(name in feeds));
  if (unknown.length > 0) throw modelCorrupt(`Tagger "${model.id}" needs inputs an ELMo head does not have: ${unknown.join(', ')}.`);
  const out = await head.run(feeds, [TAGGER_LOGITS]);
  const n = tagger.labels.length;
  const logits = logitsTensor(out, TAGGER_LOGITS, model, dims[2]!, n);
  return Array.from({ length: run.words }, (_, i) => softmaxAt(logits, (i + run.offset) * n, n));
}

/** ELMo head end to end: the base ELMo's run, then the head's (two session runs). */
export async function elmoHeadTags(
  model: ModelInfo,
  base: ModelInfo,
  words: readonly string[],
  services: WorkerServices,
  checkpoint: () => Promise<void>,
): Promise<TagProbabilities> {
  const config = parseElmoConfig(await services.config(base), base.path);
  const run = await elmoHiddenStates(await services.session(base), config, words, checkpoint);
  await checkpoint();
  return elmoHeadProbabilities(await services.session(model), model, run);
}

/** Pieces a token classifier sees at once at most (special tokens included). */
export const MAX_TAGGER_PIECES = 512;

/** A token classifier prepared for windows of words: its session, the pieces of a word, its position limit. */
export interface TokenClassifier {
  model: ModelInfo;
  session: ModelSession;
  /** The pieces of `words[i]` of `text`. */
  pieces(text: string, word: Word): number[];
  prefix: number[];
  suffix: number[];
  maxPieces: number;
}

export async function tokenClassifier(model: ModelInfo, services: WorkerServices): Promise<TokenClassifier> {
  taggerOf(model);
  const [session, tokenizer, config] = await Promise.all([services.session(model), loadTokenizer(model.path), services.config(model)]);
  const { prefix, suffix } = specialAffixes(tokenizer);
  const positions = [config['max_position_embeddings'], config['n_positions']].find((v): v is number => typeof v === 'number' && v > 0);
  const cache = new Map<string, number[]>();
  return {
    model,
    session,
    prefix,
    suffix,
    maxPieces: Math.min(MAX_TAGGER_PIECES, positions ?? MAX_TAGGER_PIECES),
    pieces(text, word) {
      // a space before the word when the text has one: GPT-2's byte-level BPE encodes " bank", not "bank"
      const raw = (word.start > 0 && /\s/.test(text[word.start - 1]!) ? ' ' : '') + word.text;
      let ids = cache.get(raw);
      if (!ids) {
        ids = tokenizer.encode(raw, { add_special_tokens: false }).ids;
        if (cache.size > 10_000) cache.clear();
        cache.set(raw, ids);
      }
      return ids;
    },
  };
}

/**
 * Splits `words` into windows whose pieces fit the classifier (a word longer than a window keeps its first pieces).
 * Returns [start, end) word ranges.
 */
export function pieceWindows(counts: readonly number[], budget: number): [number, number][] {
  const windows: [number, number][] = [];
  let start = 0;
  let used = 0;
  counts.forEach((count, i) => {
    const size = Math.min(count, budget);
    if (i > start && used + size > budget) {
      windows.push([start, i]);
      start = i;
      used = 0;
    }
    used += size;
  });
  if (start < counts.length) windows.push([start, counts.length]);
  return windows;
}

/**
 * Token classifier: the tags of `words` (a window that fits, see pieceWindows) of `text`, one session run. A word the
 * tokenizer gives no piece (a character it drops) has no logits to read: undefined.
 */
export async function tokenClassifierProbabilities(
  classifier: TokenClassifier,
  text: string,
  words: readonly Word[],
): Promise<(Float32Array | undefined)[]> {
  const { model, session } = classifier;
  const tagger = taggerOf(model);
  const budget = classifier.maxPieces - classifier.prefix.length - classifier.suffix.length;
  const ids: number[] = [...classifier.prefix];
  const at: (number | undefined)[] = [];
  for (const word of words) {
    const pieces = classifier.pieces(text, word).slice(0, Math.max(0, budget - (ids.length - classifier.prefix.length)));
    if (pieces.length === 0) {
      at.push(undefined);
      continue;
    }
    at.push(ids.length + (tagger.wordPiece === 'last' ? pieces.length - 1 : 0));
    ids.push(...pieces);
  }
  ids.push(...classifier.suffix);
  const inputs = tokenInputs(session, model.id);
  const feeds = tokenFeeds(inputs, { ids, batch: 1, length: ids.length }, model.id);
  const name = taggerLogitsName(session.outputNames);
  if (!name) throw modelCorrupt(`Tagger "${model.id}" has no "${TAGGER_LOGITS}" output (outputs: ${session.outputNames.join(', ')}).`);
  const out = await session.run(feeds, [name]);
  const n = tagger.labels.length;
  const logits = logitsTensor(out, name, model, ids.length, n);
  return at.map((position) => (position === undefined ? undefined : softmaxAt(logits, position * n, n)));
}

/** The [start, end) range of words around `index` whose pieces fit `budget`, growing to the side with the shorter word. */
export function pieceWindowAround(counts: readonly number[], index: number, budget: number): [number, number] {
  let lo = index;
  let hi = index + 1;
  let used = Math.min(counts[index] ?? 0, budget);
  while (lo > 0 || hi < counts.length) {
    const before = lo > 0 ? counts[lo - 1]! : Infinity;
    const after = hi < counts.length ? counts[hi]! : Infinity;
    const next = Math.min(before, after);
    if (used + next > budget) break;
    used += next;
    if (before <= after) lo--;
    else hi++;
  }
  return [lo, hi];
}
