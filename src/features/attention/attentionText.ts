/**
 * The text the attention view shows for a cursor or a selection: the selection itself, or the sentence under the
 * cursor within its paragraph. Bounded: at most `LIMITS.sideLines` lines and `LIMITS.sideChars` characters on
 * each side of the cursor are read, so a 5,000-line paragraph costs the same as a short one (the engine then
 * keeps a window of tokens around the cursor). Pure: no `vscode` import.
 */
import type { TextSource } from '../hover/wordContext';

export interface TextPosition {
  line: number;
  character: number;
}

export interface AttentionText {
  text: string;
  /** Offset of the cursor in `text`. */
  focus: number;
  /** Where `text` starts in the document (for captions). */
  line: number;
  /** True when the sentence or selection was cut to the bounds. */
  clipped: boolean;
}

export const LIMITS = {
  sideChars: 1200,
  sideLines: 24,
  /** Characters of a line looked at around the cursor (a minified file can have a 10 MB line). */
  lineWindow: 4000,
} as const;

const SENTENCE_END = /[.!?…]+["'”’)\]]*(?=\s|$)/gu;

function compare(a: TextPosition, b: TextPosition): number {
  return a.line - b.line || a.character - b.character;
}

/**
 * The selection's text when `anchor` and `active` differ (cut to the bounds around `active`), else the
 * sentence around `active`. Undefined when there is nothing but whitespace there.
 */
export function attentionTextAt(source: TextSource, active: TextPosition, anchor: TextPosition = active): AttentionText | undefined {
  if (active.line < 0 || active.line >= source.lineCount) return undefined;
  if (compare(anchor, active) !== 0) return selectionText(source, anchor, active);
  return sentenceText(source, active);
}

interface Joined {
  text: string;
  focus: number;
  firstLine: number;
  clipped: boolean;
}

/** Lines `from`..`to` (inclusive), trimmed and joined with single spaces; `focus` mapped into the result. */
function joinLines(source: TextSource, from: number, to: number, at: TextPosition, startChar = 0, endChar?: number): Joined {
  const parts: string[] = [];
  let focus = 0;
  let length = 0;
  let clipped = false;
  for (let n = from; n <= to; n++) {
    let raw = source.lineAt(n);
    let offset = 0;
    if (raw.length > LIMITS.lineWindow) {
      // only a window of a very long line, centred on the cursor on its own line
      const centre = n === at.line ? at.character : n < at.line ? raw.length : 0;
      offset = Math.max(0, Math.min(centre - LIMITS.lineWindow / 2, raw.length - LIMITS.lineWindow));
      raw = raw.slice(offset, offset + LIMITS.lineWindow);
      clipped = true;
    }
    let begin = n === from ? Math.max(0, startChar - offset) : 0;
    let end = n === to && endChar !== undefined ? Math.max(begin, endChar - offset) : raw.length;
    const slice = raw.slice(begin, end);
    const lead = slice.length - slice.trimStart().length;
    const body = slice.trim();
    begin += lead;
    end = begin + body.length;
    if (body === '') {
      if (n === at.line) focus = length;
      continue;
    }
    if (parts.length > 0) length += 1;
    if (n === at.line) focus = length + Math.min(Math.max(at.character - offset - begin, 0), body.length);
    else if (n < at.line) focus = length + body.length;
    parts.push(body);
    length += body.length;
  }
  return { text: parts.join(' '), focus, firstLine: from, clipped };
}

function selectionText(source: TextSource, anchor: TextPosition, active: TextPosition): AttentionText | undefined {
  const [start, end] = compare(anchor, active) < 0 ? [anchor, active] : [active, anchor];
  const from = Math.max(start.line, active.line - LIMITS.sideLines);
  const to = Math.min(end.line, active.line + LIMITS.sideLines);
  const joined = joinLines(
    source,
    from,
    to,
    active,
    from === start.line ? start.character : 0,
    to === end.line ? end.character : undefined,
  );
  return bounded(joined, from !== start.line || to !== end.line);
}

function sentenceText(source: TextSource, at: TextPosition): AttentionText | undefined {
  if (source.lineAt(at.line).trim() === '') return undefined;
  let from = at.line;
  while (from > 0 && at.line - from < LIMITS.sideLines && source.lineAt(from - 1).trim() !== '') from--;
  let to = at.line;
  while (to < source.lineCount - 1 && to - at.line < LIMITS.sideLines && source.lineAt(to + 1).trim() !== '') to++;
  const paragraph = joinLines(source, from, to, at);
  // the paragraph goes on beyond the lines read
  const cutAbove = from > 0 && source.lineAt(from - 1).trim() !== '';
  const cutBelow = to < source.lineCount - 1 && source.lineAt(to + 1).trim() !== '';

  // the sentence containing the cursor
  let start = 0;
  let end = paragraph.text.length;
  for (const m of paragraph.text.matchAll(SENTENCE_END)) {
    const stop = m.index + m[0].length;
    if (stop < paragraph.focus) start = stop;
    else {
      end = stop; // the cursor is in this sentence, or just after its full stop
      break;
    }
  }
  const text = paragraph.text.slice(start, end);
  const lead = text.length - text.trimStart().length;
  const clipped = paragraph.clipped || (cutAbove && start === 0) || (cutBelow && end === paragraph.text.length);
  return bounded({ text: text.trim(), focus: Math.max(0, paragraph.focus - start - lead), firstLine: from, clipped }, false);
}

/** Cuts to `LIMITS.sideChars` around the focus, at spaces where possible. */
function bounded(joined: Joined, clipped: boolean): AttentionText | undefined {
  let { text, focus } = joined;
  let cut = clipped || joined.clipped;
  if (focus > LIMITS.sideChars) {
    let from = focus - LIMITS.sideChars;
    const space = text.indexOf(' ', from);
    if (space >= 0 && space < focus) from = space + 1;
    text = text.slice(from);
    focus -= from;
    cut = true;
  }
  if (text.length - focus > LIMITS.sideChars) {
    let to = focus + LIMITS.sideChars;
    const space = text.lastIndexOf(' ', to);
    if (space > focus) to = space;
    text = text.slice(0, to);
    cut = true;
  }
  if (text.trim() === '') return undefined;
  return { text, focus: Math.min(focus, text.length), line: joined.firstLine, clipped: cut };
}
