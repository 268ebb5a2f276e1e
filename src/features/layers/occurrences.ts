/**
 * Every occurrence of a word in a document, each with the sentence around it (the hover's own context rules),
 * bounded: at most `MAX_OCCURRENCES` are kept, the ones nearest the cursor's line. Pure: no `vscode` import.
 */
import { splitWords } from '../../engine/words';
import { wordAt, wordContextAt, type TextSource, type WordContext } from '../hover/wordContext';

export const MAX_OCCURRENCES = 48;
/** Lines scanned for occurrences (a huge file is searched around the cursor only). */
export const MAX_SCAN_LINES = 20000;

export interface FoundOccurrence {
  line: number;
  character: number;
  context: WordContext;
  /** The sentence split at the word, for the list. */
  before: string;
  after: string;
}

export interface OccurrenceSearch {
  word: string;
  occurrences: FoundOccurrence[];
  /** Index in `occurrences` of the one at the cursor. */
  current: number;
  /** True when more occurrences exist than were kept. */
  more: boolean;
}

/** The word at (line, character) and its occurrences (same word, case ignored) in `source`. */
export function findOccurrences(source: TextSource, line: number, character: number, max = MAX_OCCURRENCES): OccurrenceSearch | undefined {
  if (line < 0 || line >= source.lineCount) return undefined;
  const at = wordAt(source.lineAt(line), character);
  if (!at) return undefined;
  const lower = at.text.toLowerCase();
  const from = Math.max(0, line - MAX_SCAN_LINES / 2);
  const to = Math.min(source.lineCount, from + MAX_SCAN_LINES);
  const hits: { line: number; character: number }[] = [];
  for (let n = from; n < to; n++) {
    const text = source.lineAt(n);
    if (!text.toLowerCase().includes(lower)) continue;
    for (const w of splitWords(text)) if (w.text.toLowerCase() === lower) hits.push({ line: n, character: w.start });
  }
  const distance = (h: { line: number; character: number }) => Math.abs(h.line - line) * 1e6 + Math.abs(h.character - at.start);
  const kept = hits.length <= max ? hits : [...hits].sort((a, b) => distance(a) - distance(b)).slice(0, max);
  kept.sort((a, b) => a.line - b.line || a.character - b.character);

  const occurrences: FoundOccurrence[] = [];
  for (const hit of kept) {
    const context = wordContextAt(source, hit.line, hit.character, 'prose');
    if (!context) continue;
    const split = splitAtOccurrence(context.text, context.word, context.occurrence);
    occurrences.push({ line: hit.line, character: hit.character, context, ...split });
  }
  if (occurrences.length === 0) return undefined;
  let current = occurrences.findIndex((o) => o.line === line && o.character === at.start);
  if (current < 0) current = 0;
  return { word: at.text, occurrences, current, more: hits.length > kept.length };
}

/** The text before and after the `occurrence`-th whole-word `word` in `text`. */
export function splitAtOccurrence(text: string, word: string, occurrence: number): { before: string; after: string } {
  const matches = splitWords(text).filter((w) => w.text === word);
  const hit = matches[occurrence - 1];
  if (!hit) return { before: text, after: '' };
  return { before: text.slice(0, hit.start), after: text.slice(hit.end) };
}
