/**
 * The `logLikelihoods` operation: one log-likelihood per sentence, by the model's kind (what the minimal-pair
 * scoreboard compares). Worker side; imports no ORT.
 *
 *   causal-lm   the sum of the tokens' log-probabilities, the first given the begin-of-text token (score's path)
 *   masked-lm   pseudo-log-likelihood: each token masked in turn, all masked copies of a sentence in one
 *               batch (at most BATCH_ROWS rows a run), the log-probability of each original token summed;
 *               `within-word-l2r` masks the later pieces of the token's word with it (Kauf & Ivanova 2023)
 *   nnlm        the sum of each word's log-probability given the words before it, `<S>` before the first
 *
 * A cancel takes effect between sentences and between the runs of a long sentence.
 */
import type { ModelInfo, ModelKind } from '../api';
import { LensError, badInput, modelCorrupt } from '../errors';
import { checkModelId, checkText } from '../tasks/requestChecks';
import { loadMaskedLm, runBatch, type MaskedLm } from '../tasks/fill/fill';
import { intTensor, tokenFeeds } from '../models/io';
import { HEAD_POSITIONS_INPUT } from '../onnx/headGather';
import { loadCausalLm } from '../tasks/generate/generate';
import { loadNnlm } from '../models/nnlm';
import type { RequestContext, WorkerServices } from '../runtime/context';
import { logSumExp } from '../sampling';
import { tokenLogProbs, withBeginOfText } from '../tasks/score/score';
import { encodeLmText } from '../models/lmText';
import { tokenTexts } from '../tokenizer';
import type { LikelihoodMethod, LogLikelihoodProgress, LogLikelihoodRequest, LogLikelihoodResult, PllMetric } from './types';

/** Rows of one session.run at most (masked copies of a sentence, NNLM contexts). */
export const BATCH_ROWS = 64;

export const LIKELIHOOD_LIMITS = { maxSentences: 1_000_000, maxSentenceLength: 10_000 } as const;

export const PLL_METRICS: readonly PllMetric[] = ['original', 'within-word-l2r'];

/** BAD_INPUT unless `pll` is one of PLL_METRICS; the metric (`original` when not given). */
export function checkPll(pll: PllMetric | undefined = 'original'): PllMetric {
  if (!PLL_METRICS.includes(pll)) throw badInput(`Unknown pseudo-log-likelihood "${String(pll)}"; use ${PLL_METRICS.join(' or ')}.`);
  return pll;
}

const PROGRESS_MS = 500;

interface SentenceScorer {
  method: LikelihoodMethod;
  /** The sentence's log-likelihood and how many tokens it summed; `checkpoint` between runs. */
  score(sentence: string, checkpoint: () => Promise<void>): Promise<{ logLikelihood: number; tokens: number }>;
  /** Masked LMs: whether the rewritten head is in use (LogLikelihoodResult.headAtScoredPositions). */
  headAtScoredPositions?(): boolean;
}

type ScorerLoader = (model: ModelInfo, services: WorkerServices, pll: PllMetric) => Promise<SentenceScorer>;

const SCORERS: Partial<Record<ModelKind, ScorerLoader>> = {
  'causal-lm': causalScorer,
  'masked-lm': maskedScorer,
  nnlm: nnlmScorer,
};

/** Model kinds that give sentence log-likelihoods, the default's kind first. */
export const LIKELIHOOD_KINDS = Object.keys(SCORERS) as ModelKind[];

export interface CheckedLogLikelihoodRequest {
  sentences: string[];
  model: string | undefined;
  pll: PllMetric;
}

/** `logLikelihoods` in the worker: the checked sentences with the resolved model. */
export type LogLikelihoodParams = Omit<CheckedLogLikelihoodRequest, 'model'> & { model: ModelInfo };

/** Host side: BAD_INPUT for no sentences, an empty or overlong one, an empty model id, an unknown `pll`. */
export function checkLogLikelihoodRequest(request: LogLikelihoodRequest): CheckedLogLikelihoodRequest {
  const { sentences, model } = request;
  if (!Array.isArray(sentences) || sentences.length === 0) throw badInput('No sentences to score.');
  if (sentences.length > LIKELIHOOD_LIMITS.maxSentences) {
    throw badInput(`Too many sentences (${sentences.length}; at most ${LIKELIHOOD_LIMITS.maxSentences} at once).`);
  }
  sentences.forEach((sentence, i) => {
    checkText(sentence, `Sentence ${i + 1}`);
    if (sentence.length > LIKELIHOOD_LIMITS.maxSentenceLength) {
      throw badInput(`Sentence ${i + 1} is too long (${sentence.length} characters; at most ${LIKELIHOOD_LIMITS.maxSentenceLength}).`);
    }
  });
  checkModelId(model);
  return { sentences, model, pll: checkPll(request.pll) };
}

/** Worker side: each sentence's log-likelihood, with progress at most twice a second and at the end. */
export async function logLikelihoods(
  params: LogLikelihoodParams,
  ctx: RequestContext<LogLikelihoodProgress>,
  services: WorkerServices,
): Promise<LogLikelihoodResult> {
  const { model, sentences, pll } = params;
  const load = SCORERS[model.kind];
  if (!load) throw badInput(`Model "${model.id}" (${model.kind}) cannot score sentences; use a ${LIKELIHOOD_KINDS.join(', ')} model.`);
  if (pll !== 'original' && model.kind !== 'masked-lm') {
    throw badInput(`The pseudo-log-likelihood "${pll}" is for masked LMs; "${model.id}" is a ${model.kind}.`);
  }
  const scorer = await load(model, services, pll);
  const checkpoint = (): Promise<void> => ctx.checkpoint();
  const scores: number[] = [];
  const tokens: number[] = [];
  let reported = performance.now();
  for (const sentence of sentences) {
    await ctx.checkpoint();
    const scored = await scorer.score(sentence, checkpoint);
    scores.push(scored.logLikelihood);
    tokens.push(scored.tokens);
    if (performance.now() - reported >= PROGRESS_MS) {
      reported = performance.now();
      ctx.progress({ sentences: scores.length, total: sentences.length });
    }
  }
  ctx.progress({ sentences: scores.length, total: sentences.length });
  const head = scorer.headAtScoredPositions?.();
  return { model: model.id, method: scorer.method, logLikelihoods: scores, tokens, ...(head === undefined ? {} : { headAtScoredPositions: head }) };
}

/** A sentence in a message: its first 60 characters. */
function quote(sentence: string): string {
  return JSON.stringify(sentence.length > 60 ? `${sentence.slice(0, 60)}…` : sentence);
}

async function causalScorer(model: ModelInfo, services: WorkerServices): Promise<SentenceScorer> {
  const { tokenizer, causal, lm } = await loadCausalLm(model, services);
  return {
    method: 'token-log-probs',
    async score(sentence, checkpoint) {
      const read = encodeLmText(tokenizer, sentence, causal, false);
      const ids = withBeginOfText(read.ids, causal.bosId);
      if (ids.length < 2) throw badInput(`${quote(sentence)} is too short to score with "${model.id}": it needs two tokens.`);
      const { logProbs } = await tokenLogProbs(lm, ids, (window) => (window > 0 ? checkpoint() : Promise.resolve()));
      return { logLikelihood: logProbs.reduce((a, b) => a + b, 0), tokens: logProbs.length };
    },
  };
}

/**
 * Where the text's own tokens (`bare`, encoded without special tokens) are in `ids` (encoded with them):
 * the special tokens the tokenizer puts around a text are never masked, an [UNK] in the text is.
 */
export function textPositions(ids: readonly number[], bare: readonly number[], specialIds: ReadonlySet<number>): number[] {
  if (bare.length > 0) {
    for (let start = 0; start + bare.length <= ids.length; start++) {
      if (bare.every((id, i) => ids[start + i] === id)) return bare.map((_, i) => start + i);
    }
  }
  return ids.flatMap((id, i) => (specialIds.has(id) ? [] : [i]));
}

/**
 * For each token of `ids`, whether it goes on the word of the token before it: its text starts with a letter or digit
 * and the text before it ends with one, no space between ("##ing", BPE's "ing" without "Ġ", SentencePiece's pieces
 * without "▁"). Punctuation is a word of its own, as the usual pre-tokenizers split it; U+FFFD (a byte-level token
 * that holds part of a character) counts as a letter. Read off the token texts because @huggingface/tokenizers'
 * encodings carry no word ids (the Python library's `word_ids`).
 */
export function continuesWord(ids: readonly number[], texts: readonly string[]): boolean[] {
  return ids.map((id, i) => i > 0 && WORD_START.test(texts[id] ?? '') && WORD_END.test(texts[ids[i - 1]!] ?? ''));
}

const WORD_START = /^[\p{L}\p{N}\p{M}\uFFFD]/u;
const WORD_END = /[\p{L}\p{N}\p{M}\uFFFD]$/u;

/**
 * The positions masked to score the token at `position`: itself, and for `within-word-l2r` the tokens after it that
 * go on its word (Kauf & Ivanova 2023: a word's pieces scored left to right, never from the word's own later pieces).
 */
export function maskedTogether(position: number, continues: readonly boolean[] | undefined): number[] {
  const masked = [position];
  if (continues) for (let next = position + 1; continues[next]; next++) masked.push(next);
  return masked;
}

async function maskedScorer(model: ModelInfo, services: WorkerServices, pll: PllMetric): Promise<SentenceScorer> {
  const lm = await loadMaskedLm(model, services);
  const { tokenizer, maskId, specialIds, maxLength } = lm;
  const texts = pll === 'within-word-l2r' ? tokenTexts(tokenizer) : undefined;
  const head = await headAtPositions(lm, model, services);
  return {
    method: pll === 'within-word-l2r' ? 'pseudo-log-likelihood-within-word-l2r' : 'pseudo-log-likelihood',
    async score(sentence, checkpoint) {
      const ids = tokenizer.encode(sentence).ids;
      if (ids.length > maxLength) {
        throw new LensError('INPUT_TOO_LONG', `${quote(sentence)} has ${ids.length} tokens; "${model.id}" sees at most ${maxLength}.`);
      }
      const positions = textPositions(ids, tokenizer.encode(sentence, { add_special_tokens: false }).ids, specialIds);
      if (positions.length === 0) throw badInput(`${quote(sentence)} has no tokens for "${model.id}".`);
      const continues = texts && continuesWord(ids, texts); // special tokens' texts are '': never part of a word
      let total = 0;
      for (let at = 0; at < positions.length; at += BATCH_ROWS) {
        if (at > 0) await checkpoint();
        const chunk = positions.slice(at, at + BATCH_ROWS);
        const rows = chunk.map((position) => {
          const row = [...ids];
          for (const masked of maskedTogether(position, continues)) row[masked] = maskId;
          return row;
        });
        for (const logProb of await head.logProbs(rows, chunk, ids)) total += logProb;
      }
      return { logLikelihood: total, tokens: positions.length };
    },
    headAtScoredPositions: () => head.gathered(),
  };
}

/** Each row's log-probability of `ids[positions[b]]` at `positions[b]`. */
type PositionLogProbs = (rows: number[][], positions: readonly number[], ids: readonly number[]) => Promise<number[]>;

/** Largest difference in a log-probability between the rewritten head and the whole graph that still counts as equal. */
const HEAD_CHECK_TOLERANCE = 1e-3;

/**
 * Log-probabilities at one position per row, from a copy of the graph whose head runs at those positions only
 * (onnx/headGather.ts: about half of a small BERT's time is its vocabulary-sized head at positions nobody reads).
 * The copy's first batch is checked against the whole graph's; where the rewrite is not possible or the numbers
 * differ, every batch runs the whole graph, as before.
 */
async function headAtPositions(
  lm: MaskedLm,
  model: ModelInfo,
  services: WorkerServices,
): Promise<{ logProbs: PositionLogProbs; gathered(): boolean }> {
  const full: PositionLogProbs = async (rows, positions, ids) => {
    const { logits, vocab } = await runBatch(lm, rows, model.id);
    return positions.map((position, b) => {
      const offset = (b * ids.length + position) * vocab;
      const row = logits.subarray(offset, offset + vocab);
      return row[ids[position]!]! - logSumExp(row);
    });
  };
  const session = await services.session(model, { headGather: lm.logitsName }).catch(() => undefined);
  if (!session) return { logProbs: full, gathered: () => false };
  const gathered: PositionLogProbs = async (rows, positions, ids) => {
    const all = tokenFeeds(lm.inputs, { ids: rows.flat(), batch: rows.length, length: ids.length }, model.id);
    all[HEAD_POSITIONS_INPUT] = intTensor('int64', positions, [positions.length]);
    // the rewrite drops inputs the logits never read
    const feeds = Object.fromEntries(session.inputNames.map((name) => [name, all[name]!]));
    const { [lm.logitsName]: logits } = await session.run(feeds, [lm.logitsName]);
    if (!logits || logits.type !== 'float32' || logits.dims.join() !== `${rows.length},1,${logits.dims[2]}`) {
      throw modelCorrupt(`Model "${model.id}": its rewritten head gave ${logits ? `[${logits.dims.join(', ')}]` : 'nothing'}.`);
    }
    const vocab = logits.dims[2]!;
    return positions.map((position, b) => {
      const row = logits.data.subarray(b * vocab, (b + 1) * vocab);
      return row[ids[position]!]! - logSumExp(row);
    });
  };
  let use: PositionLogProbs = async (rows, positions, ids) => {
    const expected = await full(rows, positions, ids);
    const got = await gathered(rows, positions, ids).catch(() => undefined);
    use = got && got.every((x, i) => Math.abs(x - expected[i]!) <= HEAD_CHECK_TOLERANCE) ? gathered : full;
    return expected;
  };
  return { logProbs: (rows, positions, ids) => use(rows, positions, ids), gathered: () => use === gathered };
}

async function nnlmScorer(model: ModelInfo, services: WorkerServices): Promise<SentenceScorer> {
  const nnlm = await loadNnlm(model, services);
  return {
    method: 'ngram-log-probs',
    async score(sentence, checkpoint) {
      const ids = nnlm.tokenizer.encode(sentence).ids;
      if (ids.length === 0) throw badInput(`${quote(sentence)} has no words for "${model.id}".`);
      let total = 0;
      for (let at = 0; at < ids.length; at += BATCH_ROWS) {
        if (at > 0) await checkpoint();
        for (const logProb of await nnlm.logProbs(ids, at, Math.min(at + BATCH_ROWS, ids.length))) total += logProb;
      }
      return { logLikelihood: total, tokens: ids.length };
    },
  };
}
