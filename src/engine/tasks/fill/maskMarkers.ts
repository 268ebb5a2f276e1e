/**
 * The mask markers a user may write in a text for `fill`, whatever the model's own mask token is. A tiny
 * pure module so the extension can find markers without bundling the tokenizer.
 */

const MARKER = /\[MASK\]|<mask>/gi;

/** The marker the extension writes where it masks a word. */
export const MASK_MARKER = '[MASK]';

/** A mask marker in a text (UTF-16 offsets, end exclusive). */
export interface MarkerSpan {
  start: number;
  end: number;
}

export function findMaskMarkers(text: string): MarkerSpan[] {
  return [...text.matchAll(MARKER)].map((m) => ({ start: m.index, end: m.index + m[0].length }));
}
