/**
 * Markdown's inline markup read as LM Lens' READMEs corpus read it (training/npm_readmes.py, `inline`): an image is
 * not read, a link is its text, a bare URL and an HTML tag are not read, a code span is its text, emphasis markers
 * are not read, and four entities (&nbsp; &amp; &lt; &gt;) are read as their characters. gpt2-mini's corpus has
 * almost none of this markup (77 MB of training text: 46 "](", 1,974 backticks), so read as written each link or code
 * span is text the model never saw.
 *
 * Written by hand: a Markdown parser (markdown-it, remark) renders or builds a tree and does not say where each
 * character it keeps came from, which is what placing the model's tokens back in the text needs.
 */

/** A text read with some characters left out: keep[i] is where character i of `text` lies in the text as written. */
export interface Kept {
  text: string;
  keep: number[];
}

/**
 * One pass over the text: each match is read as the text of its first capture group that matched, as `as`, or not at
 * all.
 */
interface Pass {
  /** Strings one of which a match holds: a text with none of them skips the pass. */
  hints: string[];
  /** Global, with match indices (`dg`): matchAll copies it, so one literal serves every call. */
  pattern: RegExp;
  /** The capture groups that hold the text to read; none: the whole match is left out (or read as `as`). */
  groups: number[];
  /** What the match is read as (an entity's character), placed where the match starts. */
  as?: string;
}

/** An entity the corpus decoded, after every other pass and in this order ("&amp;lt;" is read as "<", as there). */
const entity = (name: string, as: string): Pass => {
  const written = `&${name};`;
  return { hints: [written], pattern: new RegExp(written, 'dg'), groups: [], as };
};

// in the corpus' order: images before links (an image is a "!" and a link), links before URLs, emphasis last
const PASSES: readonly Pass[] = [
  { hints: ['!['], pattern: /!\[[^[\]\n]{0,500}\]\([^)\n]{0,2000}\)|!\[[^[\]\n]{0,500}\]\[[^[\]\n]{0,500}\]/dg, groups: [] },
  { hints: ['['], pattern: /\[([^[\]\n]{0,500})\]\([^)\n]{0,2000}\)|\[([^[\]\n]{0,500})\]\[[^[\]\n]{0,500}\]/dg, groups: [1, 2] },
  // the corpus' pattern took a sentence's last stop or a closing bracket with the URL: here they stay text
  { hints: ['http'], pattern: /<?https?:\/\/[^\s<>]*[^\s<>.,;:!?'")\]]>?/dg, groups: [] },
  { hints: ['<'], pattern: /<\/?[A-Za-z][^<>\n]{0,500}>/dg, groups: [] },
  { hints: ['`'], pattern: /`+([^`\n]{0,2000})`+/dg, groups: [1] },
  // emphasis at most 200 characters long: a lone star in a 5,000-line paragraph must not look to its end each time
  { hints: ['*', '~~'], pattern: /(\*\*|\*|~~)(?=\S)(.{1,200}?)(?<=\S)\1/dg, groups: [2] },
  // underscores inside a word are text (CommonMark): snake_case, a__b__c
  { hints: ['_'], pattern: /(?<!\w)(__|_)(?=\S)(.{1,200}?)(?<=\S)\1(?!\w)/dg, groups: [2] },
  entity('nbsp', ' '),
  entity('amp', '&'),
  entity('lt', '<'),
  entity('gt', '>'),
];

/** Whether `text` may hold inline markup: one of the passes' hints (false: readInline would read it as it is). */
export function hasInlineMarkup(text: string): boolean {
  return PASSES.some((pass) => hasHint(text, pass));
}

const hasHint = (text: string, { hints }: Pass): boolean => hints.some((hint) => text.includes(hint));

/** The text without its inline markup; a run of spaces that a left-out part leaves behind is read as one space. */
export function readInline(text: string): Kept {
  let read: Kept = { text, keep: Array.from({ length: text.length }, (_, i) => i) };
  if (!hasInlineMarkup(text)) return read; // as it is (readParagraphs skips the call when no paragraph has markup)
  for (const pass of PASSES) read = apply(read, pass);
  return collapseSpaces(read, text.length);
}

function apply(read: Kept, pass: Pass): Kept {
  const { text, keep } = read;
  if (!hasHint(text, pass)) return read;
  let out = '';
  const at: number[] = [];
  let from = 0;
  const take = (start: number, end: number): void => {
    out += text.slice(start, end);
    for (let i = start; i < end; i++) at.push(keep[i]!);
  };
  for (const m of text.matchAll(pass.pattern)) {
    take(from, m.index);
    const group = pass.groups.find((g) => m[g] !== undefined);
    if (pass.as !== undefined) {
      out += pass.as;
      for (let i = 0; i < pass.as.length; i++) at.push(keep[m.index]!);
    } else if (group !== undefined) {
      const [start, end] = m.indices![group]!;
      take(start, end);
    }
    from = m.index + m[0].length;
  }
  take(from, text.length);
  return { text: out, keep: at };
}

/**
 * Where a left-out part had a space on each side, the second space is not read; a space at either end of the text
 * with a left-out part beyond it is not read either (the corpus joined a paragraph's words with single spaces).
 */
function collapseSpaces({ text, keep }: Kept, length: number): Kept {
  const out: string[] = []; // characters, joined at the end: reading the last one of a string being built flattens it
  const at: number[] = [];
  let lastSpace = true; // at the start, a space is one too many
  for (let i = 0; i < text.length; i++) {
    const space = /\s/.test(text[i]!);
    const gapBefore = i === 0 ? keep[0]! > 0 : keep[i]! > keep[i - 1]! + 1;
    const atEnd = i === text.length - 1 && keep[i]! < length - 1;
    if (space && ((gapBefore && lastSpace) || atEnd)) continue;
    out.push(text[i]!);
    at.push(keep[i]!);
    lastSpace = space;
  }
  return { text: out.join(''), keep: at };
}
