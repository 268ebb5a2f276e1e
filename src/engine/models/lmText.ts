/**
 * How a causal LM reads a text: its token ids, and where each token's text lies in it.
 *
 * Line breaks. Real GPT-2 exports trained on web text with its line breaks and have tokens for
 * them ("Ċ"), so their text goes in as it is ('keep', the default). LM Lens' own gpt2-mini trained on paragraphs, one
 * per corpus line, with end-of-text between them (training/train.py, gpt_stream): it never saw a line break. Read as
 * it is, a hard-wrapped line cost it 24 bits at the break and the next word four times its surprisal on one line
 * (`lm-lens score`, measured 2026-12-07). Such a model says so in its config.json
 * (`"lm_lens": {"line_breaks": "paragraphs"}`, written by training/export.py), and its text is read as it trained:
 * a blank line ends a paragraph (end-of-text between the two), any other line break is a space, and a Markdown list
 * item or heading is a paragraph of its own, without its marker (the corpus read READMEs so, list items as
 * paragraphs and headings left out: training/npm_readmes.py, `paragraphs`), and inline markup is read as the corpus
 * read it: a link as its text, a code span as its text, no emphasis markers, images, URLs or HTML tags
 * (markdownInline.ts).
 */
import { modelCorrupt } from '../errors';
import type { Tokenizer } from '../tokenizer';
import { hasInlineMarkup, readInline } from './markdownInline';

export type LineBreaks = 'keep' | 'paragraphs';

/** Places each token's text in `text`, left to right; null for a token that cannot be found there. */
export function placeTokens(text: string, pieces: readonly string[]): ([number, number] | null)[] {
  let cursor = 0;
  return pieces.map((piece) => {
    if (piece === '') return null;
    if (text.startsWith(piece, cursor)) {
      cursor += piece.length;
      return [cursor - piece.length, cursor];
    }
    // Normalising tokenizers (lower case, stripped spaces): look for the trimmed piece a little ahead.
    const core = piece.trim();
    if (core === '') return null;
    const at = text.toLowerCase().indexOf(core.toLowerCase(), cursor);
    if (at === -1 || at - cursor > 16) return null;
    cursor = at + core.length;
    return [at, cursor];
  });
}

const LINE_BREAK_MODES: readonly LineBreaks[] = ['keep', 'paragraphs'];

/** config.json `lm_lens.line_breaks` ('keep' when absent); MODEL_CORRUPT for another value. */
export function parseLineBreaks(config: Record<string, unknown>): LineBreaks {
  const own = config['lm_lens'];
  const value = own !== null && typeof own === 'object' ? (own as Record<string, unknown>)['line_breaks'] : undefined;
  if (value === undefined) return 'keep';
  if (typeof value === 'string' && (LINE_BREAK_MODES as readonly string[]).includes(value)) return value as LineBreaks;
  throw modelCorrupt(`config.json: lm_lens.line_breaks must be "keep" or "paragraphs" (got ${JSON.stringify(value)}).`);
}

/** A text as a model that never saw a line break reads it. */
export interface FoldedText {
  /** The paragraphs (split at blank lines, list items and headings), line breaks read as spaces; none is empty. */
  paragraphs: string[];
  /** at[i]: where character i of paragraphs.join('') lies in the text. */
  at: number[];
  /**
   * How the text ends: on a line break (read as a space where more text follows), on a paragraph's end (a blank line,
   * a heading's line break, or a list marker with no item text yet), or neither.
   */
  ending: 'text' | 'line' | 'blank';
}

/** A run of whitespace that holds a line break (CRLF too: \r is whitespace). */
const BREAK = /\s*\n\s*/g;

/**
 * A Markdown block marker where a line's text starts, with the spaces after it: a list item's ("- ", "* ", "+ ",
 * "1. ", "2) ") or an ATX heading's ("## "). A hyphen, number or hash followed by a word ("-5", "1.5", "#3") is text.
 */
const LINE_MARKER = /(?:([-*+]|\d{1,9}[.)])|#{1,6})[ \t]+/y;

interface LineMarker {
  /** 0 where the line has no marker. */
  length: number;
  heading: boolean;
  /**
   * A block comment's "* " (after a line that starts with "/*", before the comment's end): the line goes on the
   * paragraph, the star not read. Only an opener at a line's start counts: "lib/*.js" in a sentence opens no comment.
   */
  decoration: boolean;
}

/**
 * The markers of `text`'s lines, asked for left to right: one pass over the text's comment edges in all (a 5,000-line
 * text of "* " lines must not look back over the text for each).
 */
function lineMarkers(text: string): (from: number) => LineMarker {
  const edges = text.includes('/*') ? [...text.matchAll(/^[ \t]*\/\*|\*\//gm)] : [];
  let next = 0;
  let inComment = false;
  return (from) => {
    LINE_MARKER.lastIndex = from;
    const m = LINE_MARKER.exec(text);
    for (; next < edges.length && edges[next]!.index < from; next++) inComment = edges[next]![0] !== '*/';
    if (m === null) return { length: 0, heading: false, decoration: false };
    return { length: m[0].length, heading: m[1] === undefined, decoration: m[1] === '*' && inComment };
  };
}

/**
 * Splits `text` into paragraphs at blank lines, at lines that start with a list marker and around heading lines (their
 * markers are not read), and reads every other run of whitespace that holds a line break as one space; line breaks at
 * a paragraph's edges are dropped. Spaces without a line break are kept as written.
 */
export function foldLineBreaks(text: string): FoldedText {
  const paragraphs: string[] = [];
  const at: number[] = [];
  let paragraph = '';
  let ending: FoldedText['ending'] = 'text';
  const markerAt = lineMarkers(text);
  const indent = /^[ \t]*/.exec(text)![0].length;
  const first = markerAt(indent);
  let from = first.length > 0 ? indent + first.length : 0; // spaces before text that is not a list item are kept
  if (first.length > 0 && from === text.length) ending = 'blank'; // a marker and no text yet
  let heading = first.heading; // the line being read is a heading: its line break ends the paragraph
  const take = (end: number): void => {
    for (let i = from; i < end; i++) at.push(i);
    paragraph += text.slice(from, end);
  };
  for (const m of text.matchAll(BREAK)) {
    take(m.index);
    from = m.index + m[0].length;
    const marker = markerAt(from);
    from += marker.length;
    const blank = heading || (marker.length > 0 && !marker.decoration) || m[0].indexOf('\n') !== m[0].lastIndexOf('\n');
    heading = marker.heading;
    ending = from === text.length ? (blank ? 'blank' : 'line') : 'text';
    if (paragraph === '') continue; // a line break before any text of the paragraph
    if (blank || from === text.length) {
      paragraphs.push(paragraph);
      paragraph = '';
    } else {
      paragraph += ' ';
      at.push(m.index);
    }
  }
  take(text.length);
  if (paragraph !== '') paragraphs.push(paragraph);
  return { paragraphs, at, ending };
}

/**
 * A text as a model that reads paragraphs reads it: folded (foldLineBreaks), and each paragraph without its inline
 * Markdown markup (markdownInline.ts); a paragraph with nothing left to read (an image alone) is dropped.
 */
export function readParagraphs(text: string): FoldedText {
  const folded = foldLineBreaks(text);
  if (!folded.paragraphs.some(hasInlineMarkup)) return folded; // most prose: nothing to copy
  const paragraphs: string[] = [];
  const at: number[] = [];
  let k = 0;
  for (const paragraph of folded.paragraphs) {
    const { text: read, keep } = readInline(paragraph);
    if (read.trim() !== '') {
      paragraphs.push(read);
      for (const i of keep) at.push(folded.at[k + i]!);
    }
    k += paragraph.length;
  }
  return { paragraphs, at, ending: folded.ending };
}

/**
 * The folded text as one string, its paragraphs joined by a space, and where each of its characters lies in `text`
 * (a joining space at the character after its paragraph's last). For a view that shows one window of tokens with no
 * end-of-text inside it (attention), read as `score` and generation read the text.
 */
export function joinParagraphs(text: string): { read: string; at: number[] } {
  const { paragraphs, at } = readParagraphs(text);
  const joined: number[] = [];
  let k = 0;
  paragraphs.forEach((paragraph, i) => {
    if (i > 0) joined.push(at[k - 1]! + 1);
    for (let j = 0; j < paragraph.length; j++) joined.push(at[k++]!);
  });
  return { read: paragraphs.join(' '), at: joined };
}

/** A [start, end) span of a read text, placed in the text it was read from (`at`: where each read character lies). */
export function spanIn(at: readonly number[], span: readonly [number, number]): [number, number] {
  return [at[span[0]]!, at[span[1] - 1]! + 1];
}

/** A text's token ids as a causal LM reads it, and how its tokens' texts are placed back in it. */
export interface LmText {
  /** The tokens (the tokenizer's own special tokens included, no begin-of-text token added). */
  ids: number[];
  /** [start, end) in the text of each scored token's decoded text (null for end-of-text and unplaceable ones). */
  place(pieces: readonly string[]): ([number, number] | null)[];
  /**
   * The text ends in markup that is not read (a closed code span, link or emphasis: "see `npm`"): its last word is
   * finished, so generation does not take it back to heal it (the model would extend a word the writer closed).
   */
  closed: boolean;
}

/** What encodeLmText needs of a model's config (parseCausalConfig's CausalConfig has it). */
export interface LmTextModel {
  lineBreaks: LineBreaks;
  /** The first is end-of-text: what a blank line is read as under 'paragraphs' (parseCausalConfig makes sure there is one). */
  eosIds: readonly number[];
}

/**
 * Encodes `text` for a causal LM: as it is ('keep'), or paragraph by paragraph joined by end-of-text. `continued`: more
 * text follows (generation), so a line break at the end is read as a typed space and a blank line as end-of-text.
 */
export function encodeLmText(tokenizer: Tokenizer, text: string, model: LmTextModel, continued: boolean): LmText {
  const eotId = model.eosIds[0];
  if (model.lineBreaks === 'keep' || eotId === undefined) {
    return { ids: tokenizer.encode(text).ids, place: (pieces) => placeTokens(text, pieces), closed: false };
  }
  const { paragraphs, at, ending } = readParagraphs(text);
  let read = paragraphs.join('');
  const ids: number[] = [];
  paragraphs.forEach((paragraph, i) => {
    if (i > 0) ids.push(eotId);
    const typedSpace = continued && ending === 'line' && i === paragraphs.length - 1;
    for (const id of tokenizer.encode(typedSpace ? `${paragraph} ` : paragraph).ids) ids.push(id); // no spread: a paragraph may be 10^5 tokens
    if (typedSpace) {
      read += ' ';
      at.push(text.length - 1);
    }
  });
  if (continued && ending === 'blank' && paragraphs.length > 0) ids.push(eotId);
  const last = at[at.length - 1];
  return {
    ids,
    closed: last !== undefined && /\S/.test(text.slice(last + 1)),
    place(pieces) {
      return placeTokens(read, pieces).map((span) => (span === null ? null : spanIn(at, span)));
    },
  };
}
