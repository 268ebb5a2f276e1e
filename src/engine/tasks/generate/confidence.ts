/**
 * How much of a generated text the model was sure of: ghost text is cut before the first token the model gave
 * less than a set probability, and back to the end of the last whole word, so a small model offers a few words
 * it believes in instead of a line of guesses. Pure (no Node, vscode or ORT import): the ghost-text provider and
 * `eval completion` share it.
 */

/** Ghost text's defaults (package.json's `lmLens.completion.*` defaults are the same numbers). */
export const GHOST_TEXT_DEFAULTS = {
  maxTokens: 16,
  /** CTRL's repetition penalty (1.3 read best on gpt2-mini). */
  repetitionPenalty: 1.3,
  /** Chosen with `lm-lens eval completion` (README, "Ghost text"). */
  minTokenProbability: 0.2,
} as const;

const WORD_CHAR = /[\p{L}\p{N}_'’]/u;

/**
 * The start of `completion` that holds only tokens the model gave at least `minProb`, ending at a word's end: a cut
 * inside a word goes back to where that word starts. `tokenEnds[i]` is where token i's text ends in `completion`,
 * `tokenProbs[i]` its probability. `minProb` 0 keeps everything. The first `healedTokens` tokens only re-wrote text
 * the writer typed (generate's `heal`): how sure the model was of that is no reason to hide what follows.
 */
export function confidentPrefix(
  completion: string,
  tokenEnds: readonly number[],
  tokenProbs: readonly number[],
  minProb: number,
  healedTokens = 0,
): string {
  if (minProb <= 0) return completion;
  let cut = 0;
  for (let i = 0; i < tokenEnds.length && i < tokenProbs.length; i++) {
    if (i >= healedTokens && !(tokenProbs[i]! >= minProb)) break; // NaN stops too
    cut = Math.min(tokenEnds[i]!, completion.length);
  }
  if (cut >= completion.length) return completion;
  while (cut > 0 && WORD_CHAR.test(completion[cut - 1]!) && WORD_CHAR.test(completion[cut]!)) cut--;
  return completion.slice(0, cut).replace(/\s+$/, '');
}

/**
 * The earlier rule for a typed space, kept for `eval completion --healing space` (the comparison in README's
 * "Ghost text"); ghost text and Continue Text now use generate's token healing, which covers it and half-typed words.
 * A prompt that ends in one space after a word is sent without that space: byte-level BPE vocabularies put the
 * space at the start of the next word's token (" States"), so a prompt ending in a bare space asks for a token
 * the model rarely saw there (gpt2-mini after "The President of the United ": "_main_____ method…", after
 * "…United": " States" at 0.99). The completion must then start with the space, which the writer already typed.
 */
export function healedPrompt(prompt: string): string {
  return /[^\s] $/.test(prompt) ? prompt.slice(0, -1) : prompt;
}

/**
 * Ghost text from a completion: its sure start (confidentPrefix); when the prompt was healed, without the space
 * the writer typed, and nothing when the model went on with the word instead.
 */
export function ghostText(
  completion: string,
  tokenEnds: readonly number[],
  tokenProbs: readonly number[],
  minProb: number,
  healed: boolean,
): string {
  const sure = confidentPrefix(completion, tokenEnds, tokenProbs, minProb);
  if (!healed) return sure;
  return sure.startsWith(' ') ? sure.slice(1) : '';
}

/** The prompt: up to `maxChars` before the cursor, starting at a word boundary when cut. */
export function promptBefore(text: string, offset: number, maxChars = 2000): string {
  if (offset <= maxChars) return text.slice(0, offset);
  const start = offset - maxChars;
  const space = text.slice(start, offset).search(/\s/);
  return text.slice(space === -1 ? start : start + space + 1, offset);
}

/** A word (with inner apostrophes) or one punctuation mark; global, for match and matchAll. */
export const WORD_OR_MARK = /[\p{L}\p{N}_]+(?:['’][\p{L}\p{N}_]+)*|[^\s\p{L}\p{N}_]/gu;

/** Words and punctuation marks, for comparing a suggestion with what was written (whitespace ignored). */
export function wordsOf(text: string): string[] {
  return text.match(WORD_OR_MARK) ?? [];
}
