/**
 * `eval completion`, its pure parts: where in a text ghost text is asked for, and how the suggestions, cut at each
 * confidence threshold, compare with what the text really goes on with. The engine calls (generate) are in
 * evaluate.ts.
 */
import { confidentPrefix, ghostText, WORD_OR_MARK, wordsOf } from '../tasks/generate/confidence';
import type { CompletionCursor, CompletionSample, CompletionThresholdTally } from './types';

/** The cuts every run reports (0: no cut). */
export const COMPLETION_THRESHOLDS: readonly number[] = [0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7];

export interface CompletionPoint {
  /** Where the cursor is (the prompt is the text before it). */
  offset: number;
  /** The rest of the line: what the writer typed next. */
  reference: string;
}

/** Words this long and longer get a mid-word point (after their first half). */
export const MID_WORD_MIN_LENGTH = 4;

/**
 * Where ghost text is asked for: at every `every`-th word or mark of each line, the cursor of someone who has just
 * typed it ('word-end', where a space follows and the line goes on), who paused after the space ('after-space'), or
 * who is half-way through it ('mid-word': words of MID_WORD_MIN_LENGTH+ characters, the cursor after
 * ceil(length / 2) of them). The reference is the rest of the line (ghost text is one line).
 */
export function completionPoints(text: string, every: number, cursor: CompletionCursor = 'word-end'): CompletionPoint[] {
  const points: CompletionPoint[] = [];
  let lineStart = 0;
  for (const line of text.split('\n')) {
    let n = 0;
    for (const match of line.matchAll(WORD_OR_MARK)) {
      n++;
      if (n % every !== 0) continue;
      const end = match.index + match[0].length;
      if (cursor === 'mid-word') {
        const word = [...match[0]]; // code points: a cut never splits a surrogate pair
        if (word.length < MID_WORD_MIN_LENGTH || !/^[\p{L}\p{N}_]/u.test(match[0])) continue;
        const at = match.index + word.slice(0, Math.ceil(word.length / 2)).join('').length;
        points.push({ offset: lineStart + at, reference: line.slice(at) });
        continue;
      }
      if (!/^[ \t]/.test(line.slice(end)) || line.slice(end).trim() === '') continue;
      const at = cursor === 'after-space' ? end + 1 : end;
      points.push({ offset: lineStart + at, reference: line.slice(at) });
    }
    lineStart += line.length + 1;
  }
  return points;
}

/** One generated suggestion: its text and each token's end and probability (GenerateResult's fields). */
export interface Suggestion {
  completion: string;
  tokenEnds: readonly number[];
  tokenProbs: readonly number[];
  /** The prompt was sent without the space the writer typed (healedPrompt, the 'space' healing). */
  healed?: boolean;
  /** Token healing: the first tokens that only re-wrote the typed text (generate's `healedTokens`). */
  healedTokens?: number;
}

/** How many of `shown`'s leading words are the leading words of `reference`. */
function rightWords(shown: readonly string[], reference: readonly string[]): number {
  let n = 0;
  while (n < shown.length && n < reference.length && shown[n] === reference[n]) n++;
  return n;
}

/** The suggestions against their references, cut at `threshold`; words compared exactly (case too). */
export function tallyCompletion(points: readonly CompletionPoint[], suggestions: readonly Suggestion[], threshold: number): CompletionThresholdTally {
  let shown = 0;
  let words = 0;
  let right = 0;
  let firstWord = 0;
  let whole = 0;
  points.forEach((point, i) => {
    const s = suggestions[i]!;
    const text = s.healed
      ? ghostText(s.completion, s.tokenEnds, s.tokenProbs, threshold, true)
      : confidentPrefix(s.completion, s.tokenEnds, s.tokenProbs, threshold, s.healedTokens ?? 0);
    const shownWords = wordsOf(text);
    if (shownWords.length === 0) return;
    const reference = wordsOf(point.reference);
    const n = rightWords(shownWords, reference);
    shown++;
    words += shownWords.length;
    right += n;
    if (n > 0) firstWord++;
    if (n === shownWords.length) whole++;
  });
  const share = (x: number, of: number): number => (of === 0 ? 0 : round(x / of));
  return {
    minTokenProbability: threshold,
    shown: share(shown, points.length),
    words: share(words, shown),
    precision: share(right, words),
    firstWord: share(firstWord, shown),
    whole: share(whole, shown),
    rightWordsPerPoint: share(right, points.length),
  };
}

/** A point and its suggestion, shortened for reading; `typed` is the text before the cursor. */
export function completionSample(typed: string, point: CompletionPoint, suggestion: Suggestion): CompletionSample {
  return {
    promptEnd: typed.slice(-40),
    completion: suggestion.completion,
    reference: point.reference.slice(0, 80),
    tokenProbs: [...suggestion.tokenProbs],
  };
}

const round = (x: number): number => Math.round(x * 10000) / 10000;
