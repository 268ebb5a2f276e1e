/**
 * Words for bag-of-words signals: lowercased content words (letters, not a stopword, not the target word).
 * One definition for the context window, the gloss bags and the gloss-overlap count.
 */
import { splitWords } from '../words';

/** A small English stopword list (function words, auxiliaries, pronouns). */
export const STOPWORDS: ReadonlySet<string> = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below between both ' +
    'but by can could did do does doing down during each few for from further had has have having he her here hers ' +
    'herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off on ' +
    'once only or other our ours ourselves out over own same she should so some such than that the their theirs them ' +
    'themselves then there these they this those through to too under until up very was we were what when where which ' +
    'while who whom why will with would you your yours yourself yourselves also may might must shall upon us one ' +
    'something someone somebody anything thing things etc e g eg ie often usually especially used use way s t'
  ).split(' '),
);

export function isContentWord(word: string): boolean {
  return word.length > 1 && /^\p{L}[\p{L}'’-]*$/u.test(word) && !STOPWORDS.has(word.toLowerCase());
}

/** Lowercased content words of `words`, skipping the positions in `skip`. */
export function contentWords(words: readonly string[], skip: ReadonlySet<number> = new Set()): string[] {
  const out: string[] = [];
  words.forEach((w, i) => {
    if (!skip.has(i) && isContentWord(w)) out.push(w.toLowerCase());
  });
  return out;
}

/** Content words of a text (gloss, example sentence), lowercased, minus the words in `exclude`. */
export function contentWordsOf(text: string, exclude: ReadonlySet<string> = new Set()): string[] {
  return splitWords(text)
    .map((w) => w.text.toLowerCase())
    .filter((w) => isContentWord(w) && !exclude.has(w));
}

/** The content words of `words` in a window of `side` words either side of `index` (the target excluded). */
export function contextWindow(words: readonly string[], index: number, side = 12): string[] {
  const from = Math.max(0, index - side);
  const to = Math.min(words.length, index + side + 1);
  return contentWords(words.slice(from, to), new Set([index - from]));
}
