/**
 * The paragraph around an offset: the text between blank lines, cut to a window of `maxChars` around
 * [from, to] when it is longer. Pure (no `vscode`): the features pass the document's text and offsets.
 */
export interface TextRange {
  start: number;
  end: number;
}

const BLANK_LINE = /\n[ \t]*\r?\n/g;

export function paragraphAround(text: string, from: number, to = from, maxChars = 2000): TextRange {
  let start = 0;
  let end = text.length;
  for (const m of text.matchAll(BLANK_LINE)) {
    const breakStart = m.index;
    const breakEnd = m.index + m[0].length;
    if (breakEnd <= from) start = breakEnd;
    else if (breakStart >= to) {
      end = breakStart;
      break;
    }
  }
  if (end - start > maxChars) {
    const spare = Math.max(0, maxChars - (to - from));
    start = Math.max(start, from - Math.floor(spare / 2));
    end = Math.min(end, Math.max(to, start + maxChars));
  }
  return { start, end };
}
