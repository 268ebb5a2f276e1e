/**
 * The `score` operation: each token's log-probability under a causal LM given the tokens before it, and
 * the text's perplexity. A text longer than the context window is scored in overlapping windows (stride
 * half a window), so every token after the first window still sees half a window of context; each
 * token is scored exactly once.
 *
 * Three phases: tokenize (with the begin-of-text token in front, so the first token is scored too), run
 * window by window (checking for a cancel between windows), place each token back in the text.
 */
import type { ModelInfo, ModelKind, ScoreProgress, ScoreRequest, ScoreResult } from '../../api';
import { logitsRow, type CausalLm } from '../../models/causalLm';
import { badInput, modelCorrupt } from '../../errors';
import { checkModelId, checkText } from '../requestChecks';
import { IncrementalDecoder, loadCausalLm } from '../generate/generate';
import { encodeLmText } from '../../models/lmText';
import type { RequestContext, WorkerServices } from '../../runtime/context';
import { logSumExp } from '../../sampling';

export const SCORE_KINDS: readonly ModelKind[] = ['causal-lm'];

export const SCORE_LIMITS = { maxTextLength: 1_000_000 } as const;

export interface CheckedScoreRequest {
  text: string;
  model: string | undefined;
}

/** `score` in the worker: the checked request (defaults filled in) with the resolved model. */
export type ScoreParams = Omit<CheckedScoreRequest, 'model'> & { model: ModelInfo };

export function checkScoreRequest(request: ScoreRequest): CheckedScoreRequest {
  const { text, model } = request;
  checkText(text, 'The text to score');
  if (text.length > SCORE_LIMITS.maxTextLength) {
    throw badInput(`The text is too long (${text.length} characters; at most ${SCORE_LIMITS.maxTextLength}).`);
  }
  checkModelId(model);
  return { text, model };
}

/**
 * The windows that score tokens 1 .. n-1 of an n-token sequence with a context of `size`: each window
 * [begin, end) and the first target it scores. Consecutive windows overlap by `size - stride` tokens.
 */
export function scoringWindows(n: number, size: number, stride = Math.max(1, Math.floor(size / 2))): { begin: number; end: number; from: number }[] {
  const windows: { begin: number; end: number; from: number }[] = [];
  let scored = 1; // token 0 has nothing before it
  for (let begin = 0; scored < n; begin += stride) {
    const end = Math.min(begin + size, n);
    windows.push({ begin, end, from: Math.max(scored, begin + 1) });
    scored = end;
  }
  return windows;
}

/** The ids `score` runs: the text's tokens with the begin-of-text token in front when the model has one. */
export function withBeginOfText(encoded: readonly number[], bosId: number | undefined): number[] {
  return bosId !== undefined && encoded[0] !== bosId ? [bosId, ...encoded] : [...encoded];
}

/**
 * The log-probability of each of ids[1..] given the ids before it, window by window (see scoringWindows);
 * `beforeWindow` runs before each window (a cancel checkpoint, progress). ids[0] is context only.
 * BAD_INPUT for a model whose window holds one token (a token and the one it predicts must fit in it).
 */
export async function tokenLogProbs(
  lm: CausalLm,
  ids: readonly number[],
  beforeWindow: (window: number, windows: number) => Promise<void>,
): Promise<{ logProbs: number[]; windows: number }> {
  if (lm.contextSize < 2) {
    throw badInput(
      `Model "${lm.modelId}" cannot score text: its config.json gives a context of ${lm.contextSize} token ` +
        '(n_positions, n_ctx or max_position_embeddings); scoring needs at least 2, a token and the one before it.',
    );
  }
  const windows = scoringWindows(ids.length, lm.contextSize);
  const logProbs: number[] = [];
  for (const [w, { begin, end, from }] of windows.entries()) {
    await beforeWindow(w, windows.length);
    const { logits, vocab } = await lm.step(ids.slice(begin, end), undefined, false);
    for (let j = from; j < end; j++) {
      const row = logitsRow(logits, vocab, j - begin - 1);
      logProbs.push(row[ids[j]!]! - logSumExp(row));
    }
  }
  return { logProbs, windows: windows.length };
}

/** Worker side: per-token log-probabilities and perplexity of `params.text`; progress after each window. */
export async function score(params: ScoreParams, ctx: RequestContext<ScoreProgress>, services: WorkerServices): Promise<ScoreResult> {
  const { model, text } = params;
  if (!SCORE_KINDS.includes(model.kind)) throw badInput(`Model "${model.id}" (${model.kind}) cannot score text.`);
  const { tokenizer, causal, lm } = await loadCausalLm(model, services);

  // 1. tokenize, with the begin-of-text token in front when the model has one
  const read = encodeLmText(tokenizer, text, causal, false);
  const encoded = read.ids;
  if (encoded.length === 0) throw badInput('The text has no tokens for this model.');
  const ids = withBeginOfText(encoded, causal.bosId);
  const firstScored = 1; // ids[0] (the begin-of-text token, or the first token when there is none) is context only
  if (ids.length <= firstScored) throw badInput(`The text is too short to score with "${model.id}": it needs two tokens.`);

  // 2. window by window
  const { logProbs, windows } = await tokenLogProbs(lm, ids, async (window, total) => {
    if (window > 0) ctx.progress({ windows: window, total });
    await ctx.checkpoint();
  });

  // 3. each scored token's text and place
  const decoder = new IncrementalDecoder(tokenizer, ids.slice(0, firstScored));
  const tokens = ids.slice(firstScored).map((id) => decoder.push(id));
  if (logProbs.length !== ids.length - firstScored) {
    throw new Error(`score: ${logProbs.length} log-probabilities for ${ids.length - firstScored} tokens.`);
  }
  if (logProbs.some(Number.isNaN)) throw modelCorrupt(`Model "${model.id}" gave NaN log-probabilities: its logits are not numbers.`);
  const mean = logProbs.reduce((a, b) => a + b, 0) / logProbs.length;
  return {
    model: model.id,
    tokens,
    tokenLogProbs: logProbs,
    offsets: read.place(tokens),
    perplexity: Math.exp(-mean),
    windows,
  };
}
