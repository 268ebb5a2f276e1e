/**
 * What `LM Lens: Fill Mask` asks the model, from the document text and the selection: the paragraph with
 * [MASK] markers, and the document ranges each marker stands for. Pure (no `vscode`), so it is unit-tested.
 *
 *   a selection            -> the selection is masked (or, if it holds [MASK] / <mask> markers, those)
 *   markers in the paragraph -> they are filled
 *   otherwise              -> the word at the cursor is masked
 */
import { findMaskMarkers, MASK_MARKER } from '../../engine/tasks/fill/maskMarkers';
import { paragraphAround, type TextRange } from '../paragraph';

export interface MaskPlan {
  /** The text the model sees: the paragraph with a marker at each mask. */
  text: string;
  /** The document ranges the fills replace, left to right (a marker's own range, or the masked word). */
  ranges: TextRange[];
  /** Where each marker is in `text`. */
  markers: TextRange[];
  source: 'selection' | 'markers' | 'word';
}

const WORD_CHAR = /[\p{L}\p{N}\p{M}_'’-]/u; // \p{M}: combining marks are part of a word (decomposed é, Devanagari)

/** The word touching `offset` (the cursor may sit just after it); undefined between words. */
export function wordAt(text: string, offset: number): TextRange | undefined {
  let start = offset;
  while (start > 0 && WORD_CHAR.test(text[start - 1]!)) start--;
  let end = offset;
  while (end < text.length && WORD_CHAR.test(text[end]!)) end++;
  // keep apostrophes and hyphens inside the word only
  while (start < end && /['’-]/.test(text[start]!)) start++;
  while (end > start && /['’-]/.test(text[end - 1]!)) end--;
  return end > start ? { start, end } : undefined;
}

/** The plan for a selection [selStart, selEnd) (equal: just a cursor) in `text`; undefined: nothing to mask. */
export function planFill(text: string, selStart: number, selEnd: number, maxChars = 2000): MaskPlan | undefined {
  let ranges: TextRange[];
  let source: MaskPlan['source'];
  let replaceWithMarker: boolean;
  if (selEnd > selStart) {
    const inSelection = findMaskMarkers(text.slice(selStart, selEnd)).map((m) => ({ start: selStart + m.start, end: selStart + m.end }));
    if (inSelection.length > 0) {
      [ranges, source, replaceWithMarker] = [inSelection, 'markers', false];
    } else {
      const selected = text.slice(selStart, selEnd);
      if (selected.trim() === '') return undefined;
      const lead = selected.length - selected.trimStart().length;
      const trail = selected.length - selected.trimEnd().length;
      [ranges, source, replaceWithMarker] = [[{ start: selStart + lead, end: selEnd - trail }], 'selection', true];
    }
  } else {
    const paragraph = paragraphAround(text, selStart, selStart, maxChars);
    const markers = findMaskMarkers(text.slice(paragraph.start, paragraph.end)).map((m) => ({
      start: paragraph.start + m.start,
      end: paragraph.start + m.end,
    }));
    if (markers.length > 0) {
      [ranges, source, replaceWithMarker] = [markers, 'markers', false];
    } else {
      const word = wordAt(text, selStart);
      if (!word) return undefined;
      [ranges, source, replaceWithMarker] = [[word], 'word', true];
    }
  }
  const first = ranges[0]!.start;
  const last = ranges[ranges.length - 1]!.end;
  const paragraph = paragraphAround(text, first, last, maxChars);
  let out = '';
  let at = paragraph.start;
  const markers: TextRange[] = [];
  for (const range of ranges) {
    out += text.slice(at, range.start);
    const marker = replaceWithMarker ? MASK_MARKER : text.slice(range.start, range.end);
    markers.push({ start: out.length, end: out.length + marker.length });
    out += marker;
    at = range.end;
  }
  out += text.slice(at, paragraph.end);
  return { text: out, ranges, markers, source };
}

/** One line of preview around `at` in `sequence`: whitespace collapsed, cut to about `width` characters. */
export function previewAround(sequence: string, at: number, width = 100): string {
  const start = Math.max(0, at - Math.floor(width / 2));
  const end = Math.min(sequence.length, start + width);
  const body = sequence.slice(start, end).replace(/\s+/g, ' ').trim();
  return `${start > 0 ? '… ' : ''}${body}${end < sequence.length ? ' …' : ''}`;
}

/** "12.3%" (or "<0.1%") for a probability. */
export function percent(p: number): string {
  if (p < 0.001) return '<0.1%';
  return `${(p * 100).toFixed(p < 0.1 ? 1 : 0)}%`;
}
