/**
 * From a `score` result to coloured spans: each token's surprisal in bits (-log2 p) and a level 0-4 for
 * the decoration. Pure (no `vscode`), unit-tested.
 */
import type { ScoreResult } from '../../engine/api';

/** Upper bounds (bits) of levels 0..3; level 4 is everything above the last. */
export const SURPRISAL_LEVEL_BITS: readonly number[] = [3, 6, 10, 15];

export interface SurprisalSpan {
  /** Document offsets (the score's offsets + `base`), leading whitespace left out. */
  start: number;
  end: number;
  token: string;
  bits: number;
  level: number;
}

export const surprisalBits = (logProb: number): number => -logProb / Math.LN2;

export function surprisalLevel(bits: number): number {
  const level = SURPRISAL_LEVEL_BITS.findIndex((bound) => bits < bound);
  return level === -1 ? SURPRISAL_LEVEL_BITS.length : level;
}

export function surprisalSpans(result: Pick<ScoreResult, 'tokens' | 'tokenLogProbs' | 'offsets'>, base: number): SurprisalSpan[] {
  const spans: SurprisalSpan[] = [];
  result.tokens.forEach((token, i) => {
    const offset = result.offsets[i];
    const logProb = result.tokenLogProbs[i];
    if (!offset || logProb === undefined) return;
    const lead = token.length - token.trimStart().length;
    const start = base + offset[0] + Math.min(lead, offset[1] - offset[0]);
    const end = base + offset[1];
    if (end <= start) return; // a whitespace-only token: nothing to colour
    const bits = surprisalBits(logProb);
    spans.push({ start, end, token, bits, level: surprisalLevel(bits) });
  });
  return spans;
}
