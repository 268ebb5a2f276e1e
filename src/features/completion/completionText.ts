/**
 * Text rules of the completion features, pure (no `vscode`) so they are unit-tested: which languages get
 * ghost text, how much text before the cursor is the prompt, and how a raw completion is tidied.
 */

/** `lmLens.completion.enable`: language id -> on/off, with "*" for every other language. */
export function inlineEnabledFor(enable: Readonly<Record<string, boolean>>, languageId: string): boolean {
  if (Object.hasOwn(enable, languageId)) return enable[languageId] === true;
  return enable['*'] === true;
}

export { promptBefore } from '../../engine/tasks/generate/confidence'; // shared with `lm-lens eval completion`

/** Ghost text is offered only at the end of a line (nothing but spaces after the cursor) after some text. */
export function wantsGhostText(linePrefix: string, lineSuffix: string): boolean {
  return lineSuffix.trim() === '' && /\S/.test(linePrefix);
}

/**
 * The completion as ghost text: one line at most when `singleLine`, no trailing spaces, and no double
 * space where the prompt already ends with one. Empty when nothing useful is left.
 */
export function tidyCompletion(prompt: string, completion: string, singleLine = true): string {
  let text = singleLine ? completion.split('\n')[0]! : completion;
  if (/\s$/.test(prompt)) text = text.replace(/^[ \t]+/, '');
  text = text.replace(/[ \t]+$/, '');
  return text.trim() === '' ? '' : text;
}

/** Continue Text holds back end-of-text for this many new tokens (transformers' `min_new_tokens`): a sentence or so. */
export function continueMinTokens(continueTokens: number): number {
  return Math.max(0, Math.min(continueTokens, 16));
}
