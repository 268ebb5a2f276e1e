/**
 * The project's own word-level scheme, used to find "the word" a request is about and to feed word-level
 * models such as ELMo. It is hand-written on purpose (not a model's tokenizer): runs of letters and digits
 * with their combining marks, with inner apostrophes kept ("don't", "river’s"), and every other non-space
 * character on its own (with any marks on it).
 *
 * Combining marks (\p{M}) belong to the word: a decomposed "café" (e + U+0301) is one word, and so is a
 * Devanagari, Bengali or Tamil word, whose vowel signs and viramas are marks. A word still starts with a
 * letter or digit, so text without marks (plain English) splits exactly as it did without them. The training
 * scripts use the same pattern (training/tokenizers_build.py WORD_SPLIT, training/tokenize_corpus.mjs WORD).
 *
 * Han characters (Chinese, and the kanji of Japanese) are words of one character each, as BERT's basic tokenizer
 * splits them: those scripts write no spaces, so a run of letters would be a whole clause ("我们在河岸上坐着").
 * Kana and other letters next to them still form runs ("川の岸で" -> 川 | の | 岸 | で).
 */
import type { TokenOffsets } from './api';
import { badInput } from './errors';

// [^\P{L}\p{sc=Han}]: a letter that is not Han
const WORD_PATTERN =
  /\p{sc=Han}\p{M}*|(?:[^\P{L}\p{sc=Han}]|\p{N})(?:[^\P{L}\p{sc=Han}]|\p{N}|\p{M})*(?:['’][^\P{L}\p{sc=Han}](?:[^\P{L}\p{sc=Han}]|\p{M})*)*|[^\s\p{L}\p{N}]\p{M}*/gu;

/** Most words a word-level model is given at once; longer texts are cut to a window around the target. */
export const MAX_WINDOW_WORDS = 128;

export interface Word {
  text: string;
  /** Offsets into the source text, in UTF-16 code units (what editors and `String#slice` use). */
  start: number;
  end: number;
}

export function splitWords(text: string): Word[] {
  const words: Word[] = [];
  for (const match of text.matchAll(WORD_PATTERN)) {
    const start = match.index;
    words.push({ text: match[0], start, end: start + match[0].length });
  }
  return words;
}

/**
 * Index in `words` of the `occurrence`-th (1-based) occurrence of `word`. Exact matches are preferred;
 * when there is none, case is ignored (so "Bank" at the start of a sentence is found by "bank").
 * Throws BAD_INPUT when `word` is not one word or does not occur that often.
 */
export function findWord(words: readonly Word[], word: string, occurrence = 1): number {
  const parts = splitWords(word);
  if (parts.length !== 1) {
    throw badInput(
      parts.length === 0
        ? 'The word to look up is empty.'
        : `"${word}" is ${parts.length} words (${parts.map((p) => p.text).join(' | ')}); give one word.`,
    );
  }
  if (!Number.isInteger(occurrence) || occurrence < 1) {
    throw badInput(`occurrence must be a whole number from 1 up (got ${occurrence}).`);
  }
  const target = parts[0]!.text;
  const lower = target.toLowerCase();
  let hits = indexesWhere(words, (w) => w.text === target);
  if (hits.length === 0) hits = indexesWhere(words, (w) => w.text.toLowerCase() === lower);
  if (hits.length === 0) {
    const inside = words.find((w) => w.text.toLowerCase().includes(lower))?.text;
    throw badInput(
      inside === undefined
        ? `"${target}" does not occur in the text.`
        : `"${target}" occurs in the text only inside the longer word "${inside.length > 40 ? `${inside.slice(0, 40)}…` : inside}"; ` +
            'words are split at spaces and punctuation: give the whole word.',
    );
  }
  const index = hits[occurrence - 1];
  if (index === undefined) {
    const times = hits.length === 1 ? 'once' : `${hits.length} times`;
    throw badInput(`"${target}" occurs ${times} in the text; there is no occurrence ${occurrence}.`);
  }
  return index;
}

function indexesWhere(words: readonly Word[], test: (word: Word) => boolean): number[] {
  const hits: number[] = [];
  words.forEach((w, i) => {
    if (test(w)) hits.push(i);
  });
  return hits;
}

/** The `[start, end)` range of at most `max` items out of `count`, centred on `center` where possible. */
export function windowAround(count: number, center: number, max = MAX_WINDOW_WORDS): { start: number; end: number } {
  if (count <= max) return { start: 0, end: count };
  const start = Math.min(Math.max(center - Math.floor(max / 2), 0), count - max);
  return { start, end: start + max };
}

/** The words a word-level request runs on: the `occurrence`-th `word` of `text` and a window of words around it. */
export interface WordWindow {
  /** The window's words (all of them when the text is short enough), with their offsets into `text`. */
  words: Word[];
  /** The window's words as plain strings, what a model is given. */
  tokens: string[];
  /** Index of the target in the window. */
  index: number;
  /** Each window word's `[start, end)` in `text`, for results that let a caller show the user's own text. */
  offsets: TokenOffsets;
  /** True when the text had more words than the window. */
  truncated: boolean;
}

/** Splits `text`, finds the word (BAD_INPUT as `findWord`) and keeps at most `max` words around it. */
export function wordWindow(text: string, word: string, occurrence = 1, max = MAX_WINDOW_WORDS): WordWindow {
  const all = splitWords(text);
  const target = findWord(all, word, occurrence);
  const { start, end } = windowAround(all.length, target, max);
  const words = all.slice(start, end);
  return {
    words,
    tokens: words.map((w) => w.text),
    index: target - start,
    offsets: words.map((w) => [w.start, w.end]),
    truncated: words.length < all.length,
  };
}
