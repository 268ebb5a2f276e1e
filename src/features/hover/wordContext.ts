/**
 * Finds the word under the cursor and the sentence around it, cheaply and within fixed bounds, so a hover over a
 * minified file, a binary file or a 5,000-line paragraph costs the same as one over a short sentence.
 * Pure: no `vscode` import (the caller adapts a TextDocument to `TextSource`).
 */
import { splitWords } from '../../engine/words';

export interface TextSource {
  readonly lineCount: number;
  lineAt(line: number): string;
}

export interface WordContext {
  /** The text sent to the model: the sentence around the word, cut to a window around it when long. */
  text: string;
  word: string;
  /** 1-based occurrence of `word` (as a whole word) in `text`. */
  occurrence: number;
  /** Where the word is in the document (0-based line, UTF-16 columns). */
  line: number;
  start: number;
  end: number;
  /** True when the sentence was cut to fit the window. */
  truncated: boolean;
}

/** `prose`: the whole text is language (markdown, plain text). `code`: only comments and strings are. */
export type ContextMode = 'prose' | 'code';

export const LIMITS = {
  /** Characters kept on each side of the word. */
  sideChars: 300,
  /** Lines read above and below the cursor while looking for the paragraph. */
  sideLines: 12,
  /** Longest run of word characters taken as a word. */
  wordChars: 48,
  /** Characters of the cursor's line looked at around the cursor. */
  lineWindow: 2000,
} as const;

const WORD_CHAR = /[\p{L}\p{N}\p{M}]/u; // as in the engine's words.ts: combining marks belong to the word

export function wordContextAt(
  source: TextSource,
  line: number,
  character: number,
  mode: ContextMode,
): WordContext | undefined {
  if (line < 0 || line >= source.lineCount) return undefined;
  const full = source.lineAt(line);
  // look only at a window of the cursor's line: a minified file can have a 10 MB line
  const from = Math.max(0, character - LIMITS.lineWindow / 2);
  const lineText = full.slice(from, character + LIMITS.lineWindow / 2);
  const ch = character - from;
  if (looksBinary(lineText)) return undefined;

  const word = wordAt(lineText, ch);
  if (!word) return undefined;

  let before: string;
  let after: string;
  if (mode === 'code') {
    const span = commentOrStringSpan(lineText, word.start);
    if (!span) return undefined;
    before = lineText.slice(span.start, word.start);
    after = lineText.slice(word.end, span.end);
    if (span.kind === 'comment' && span.wholeLine) {
      before = joinLines(collectComment(source, line, -1), before);
      after = joinLines(after, collectComment(source, line, +1));
    }
  } else {
    before = lineText.slice(0, word.start);
    after = lineText.slice(word.end);
    if (from === 0) before = joinLines(collectParagraph(source, line, -1), stripLineMarkup(before));
    if (from + lineText.length >= full.length) after = joinLines(after, collectParagraph(source, line, +1));
  }
  const cutBefore = from > 0;
  const cutAfter = from + lineText.length < full.length;

  const sentenceBefore = afterLastSentenceEnd(before);
  const sentenceAfter = upToFirstSentenceEnd(after);
  const left = clipLeft(sentenceBefore.text, LIMITS.sideChars);
  const right = clipRight(sentenceAfter.text, LIMITS.sideChars);
  const truncated =
    left.clipped || right.clipped || (cutBefore && !sentenceBefore.bounded) || (cutAfter && !sentenceAfter.bounded);

  const text = collapseSpacesBoth(left.text + word.text + right.text);
  const wordOffset = collapseSpaces(left.text).length;
  return {
    text,
    word: word.text,
    occurrence: 1 + countWholeWord(text.slice(0, wordOffset), word.text),
    line,
    start: from + word.start,
    end: from + word.end,
    truncated,
  };
}

interface Span {
  start: number;
  end: number;
  text: string;
}

/**
 * The word touching column `ch`, in the engine's own word scheme (so the engine finds exactly this word):
 * letters and digits with inner apostrophes; undefined for punctuation, numbers and over-long runs.
 */
export function wordAt(text: string, ch: number): Span | undefined {
  const from = Math.max(0, ch - LIMITS.wordChars);
  const window = text.slice(from, ch + LIMITS.wordChars);
  const at = ch - from;
  // the word under the cursor, or the one just before it (cursor right after a word)
  const words = splitWords(window);
  const word = words.find((w) => w.start <= at && at < w.end) ?? words.find((w) => w.end === at);
  if (!word || !/\p{L}/u.test(word.text)) return undefined; // punctuation and numbers are not words
  // a run that touches the window's edge is longer than any word
  if ((word.start === 0 && from > 0) || (word.end === window.length && from + window.length < text.length)) {
    return undefined;
  }
  return { start: from + word.start, end: from + word.end, text: word.text };
}

function isWordChar(text: string, i: number): boolean {
  return i >= 0 && i < text.length && WORD_CHAR.test(text[i]!);
}

/** NUL or many control characters: a binary file opened as text. */
export function looksBinary(text: string): boolean {
  let control = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0 || c === 0xfffd) return true;
    if (c < 32 && c !== 9) control++;
  }
  return control > 8;
}

/**
 * Cheap heuristic for code: the word is in a comment if a comment marker comes before it on the line
 * (`//`, `#`, `--`, `;`, `/*`, `<!--`, or a line starting with `*`), or in a string if an odd number of
 * unescaped quotes of one kind precede it. Good enough for a hover; a later issue can ask the language.
 */
export function commentOrStringSpan(
  line: string,
  at: number,
): { kind: 'comment' | 'string'; start: number; end: number; wholeLine: boolean } | undefined {
  const lead = /^\s*(?:\*(?!\*)|\/\*+|<!--|\/\/+|#+|--|;+)\s?/.exec(line);
  if (lead && (lead[0].trim() !== '*' || /^\s*\*(\s|$)/.test(line))) {
    return { kind: 'comment', start: lead[0].length, end: stripCommentEnd(line), wholeLine: true };
  }
  let quote: string | undefined;
  let quoteStart = 0;
  for (let i = 0; i < at; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      // an apostrophe inside a word ("don't") does not open a string
      if (c === "'" && isWordChar(line, i - 1) && isWordChar(line, i + 1)) continue;
      quote = c;
      quoteStart = i + 1;
    } else if (
      (c === '/' && (line[i + 1] === '/' || line[i + 1] === '*')) ||
      (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) ||
      (c === '-' && line[i + 1] === '-' && (i === 0 || /\s/.test(line[i - 1]!)))
    ) {
      const marker = /^(?:\/\/+|\/\*+|#+|--)\s?/.exec(line.slice(i))![0];
      return { kind: 'comment', start: i + marker.length, end: stripCommentEnd(line), wholeLine: false };
    }
  }
  if (!quote) return undefined;
  let end = at;
  while (end < line.length && line[end] !== quote) end += line[end] === '\\' ? 2 : 1;
  return { kind: 'string', start: quoteStart, end: Math.min(end, line.length), wholeLine: false };
}

function stripCommentEnd(line: string): number {
  const m = /\s*(?:\*+\/|-->)\s*$/.exec(line);
  return m ? m.index : line.length;
}

/** Comment lines next to `line` (direction -1 up, +1 down), markers stripped, bounded. */
function collectComment(source: TextSource, line: number, direction: -1 | 1): string {
  const parts: string[] = [];
  let budget = LIMITS.sideChars;
  for (let n = line + direction, k = 0; n >= 0 && n < source.lineCount && k < LIMITS.sideLines && budget > 0; n += direction, k++) {
    const text = source.lineAt(n).slice(0, LIMITS.lineWindow);
    const lead = /^\s*(?:\*(?!\*)|\/\*+|\/\/+|#+|--|;+)\s?/.exec(text);
    if (!lead || looksBinary(text)) break;
    const body = text.slice(lead[0].length, stripCommentEnd(text)).trim();
    if (body === '') break;
    parts.push(body);
    budget -= body.length;
  }
  if (direction < 0) parts.reverse();
  return parts.join(' ');
}

/** Lines of the same paragraph next to `line` (up to a blank line or a markdown block start), bounded. */
function collectParagraph(source: TextSource, line: number, direction: -1 | 1): string {
  const parts: string[] = [];
  let budget = LIMITS.sideChars;
  if (direction < 0 && startsBlock(source.lineAt(line).slice(0, 16))) return '';
  for (let n = line + direction, k = 0; n >= 0 && n < source.lineCount && k < LIMITS.sideLines && budget > 0; n += direction, k++) {
    const raw = source.lineAt(n);
    // only the end of the line that touches the word matters; never copy a whole huge line
    const text = direction < 0 ? raw.slice(-LIMITS.lineWindow) : raw.slice(0, LIMITS.lineWindow);
    if (text.trim() === '' || looksBinary(text) || /^\s*(```|~~~|\$\$)/.test(text)) break;
    if (direction > 0 && startsBlock(text)) break;
    parts.push(stripLineMarkup(text).trim());
    budget -= text.length;
    if (direction < 0 && startsBlock(text)) break;
  }
  if (direction < 0) parts.reverse();
  return parts.join(' ');
}

/** A line that starts a new block in markdown-like text: heading, list item, quote, table row. */
function startsBlock(text: string): boolean {
  return /^\s*(#{1,6}\s|[-*+]\s|\d+[.)]\s|>|\|)/.test(text);
}

function stripLineMarkup(text: string): string {
  return text.replace(/^\s*(#{1,6}\s+|[-*+]\s+|\d+[.)]\s+|>\s*)/, '');
}

/** Joins text across a line break (the break is a space; spaces are collapsed at the end). */
function joinLines(a: string, b: string): string {
  return a + ' ' + b;
}

const SENTENCE_END = /[.!?…]+["'”’)\]]*(?=\s)/gu;

/** The part of `before` after its last sentence end; `bounded` when a sentence end was found. */
function afterLastSentenceEnd(before: string): { text: string; bounded: boolean } {
  let cut = -1;
  for (const m of before.matchAll(SENTENCE_END)) cut = m.index! + m[0].length;
  return cut < 0 ? { text: before, bounded: false } : { text: before.slice(cut).trimStart(), bounded: true };
}

function upToFirstSentenceEnd(after: string): { text: string; bounded: boolean } {
  // the word itself may be followed directly by the full stop ("river.")
  const m = /[.!?…]+["'”’)\]]*(?=\s|$)/u.exec(after);
  return m ? { text: after.slice(0, m.index + m[0].length), bounded: true } : { text: after, bounded: false };
}

function clipLeft(text: string, max: number): { text: string; clipped: boolean } {
  if (text.length <= max) return { text, clipped: false };
  const tail = text.slice(-max);
  const space = tail.search(/\s/);
  return { text: space >= 0 ? tail.slice(space + 1) : tail, clipped: true };
}

function clipRight(text: string, max: number): { text: string; clipped: boolean } {
  if (text.length <= max) return { text, clipped: false };
  const head = text.slice(0, max);
  const space = head.search(/\s\S*$/);
  return { text: space > 0 ? head.slice(0, space) : head, clipped: true };
}

function collapseSpaces(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/^ /, '');
}

function collapseSpacesBoth(text: string): string {
  return collapseSpaces(text).replace(/ $/, '');
}

/** How many times `word` occurs as a word (in the engine's word scheme) in `text`. */
export function countWholeWord(text: string, word: string): number {
  return splitWords(text).filter((w) => w.text === word).length;
}
