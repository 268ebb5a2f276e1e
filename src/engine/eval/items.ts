/**
 * The `eval` scoreboards' pure part: reading minimal-pair and cloze files into items (BAD_INPUT naming the
 * file and line of anything malformed), and tallying the model's answers. No I/O, no model.
 *
 *   pairs   BLiMP's JSON lines: {"sentence_good", "sentence_bad", "linguistics_term"?, "UID"?, "field"?, ...}
 *   cloze   answer|answer<TAB>a sentence with exactly one [MASK]   (blank lines and # comments skipped)
 *   tags    word<TAB>tag a line, a blank line between sentences     (# comment lines skipped, as in CoNLL-U)
 *   senses  word<TAB>WordNet sense key<TAB>sentence                (blank lines and # comments skipped)
 */
import path from 'node:path';
import { badInput } from '../errors';
import { findMaskMarkers } from '../tasks/fill/maskMarkers';
import { posOfSenseKey } from '../wordnet/types';
import type { ClozeMiss, PairTally, PairsEvalResult, SenseMiss, SensesEvalResult, TagConfusion, TagsEvalResult, TagTally } from './types';

export interface PairItem {
  good: string;
  bad: string;
  /** `linguistics_term`, else `UID`, else the file's name. */
  term: string;
  /** The file's name without .jsonl. */
  file: string;
  /** 1-based line in the file. */
  line: number;
}

export interface ClozeItem {
  answers: string[];
  sentence: string;
  line: number;
}

/** One sentence of a tagged file: its words and their gold tags, and the line of its first word. */
export interface TaggedSentence {
  words: string[];
  tags: string[];
  line: number;
}

/** One line of a sense file: the word as the sentence has it, the gold WordNet sense key, the sentence. */
export interface SenseItem {
  word: string;
  key: string;
  sentence: string;
  line: number;
}

/** Misses listed in a cloze result at most. */
export const MAX_CLOZE_MISSES = 100;

/** Code-unit order (not locale order: the same on every machine), for sorting tables. */
function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Lines of a text file, without a byte-order mark or line-end characters. */
function linesOf(text: string): string[] {
  return text.replace(/^\uFEFF/, '').split(/\r?\n/);
}

/** A file's name without its folder and its .jsonl extension. */
export function pairFileName(file: string): string {
  return path.basename(file).replace(/\.jsonl$/i, '');
}

/** The pairs of one BLiMP-format JSON-lines file (`file` names it in errors). */
export function parsePairs(text: string, file: string): PairItem[] {
  const name = pairFileName(file);
  const items: PairItem[] = [];
  linesOf(text).forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    let record: unknown;
    try {
      record = JSON.parse(raw);
    } catch (error) {
      throw badInput(`${file}:${line}: not a JSON object (${(error as Error).message}).`);
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw badInput(`${file}:${line}: not a JSON object; each line needs "sentence_good" and "sentence_bad".`);
    }
    const fields = record as Record<string, unknown>;
    const sentence = (key: string): string => {
      const value = fields[key];
      if (typeof value !== 'string' || value.trim() === '') {
        throw badInput(`${file}:${line}: "${key}" is missing or empty; each line needs "sentence_good" and "sentence_bad".`);
      }
      return value;
    };
    const label = (key: string): string | undefined => {
      const value = fields[key];
      return typeof value === 'string' && value.trim() !== '' ? value : undefined;
    };
    items.push({
      good: sentence('sentence_good'),
      bad: sentence('sentence_bad'),
      term: label('linguistics_term') ?? label('UID') ?? name,
      file: name,
      line,
    });
  });
  if (items.length === 0) throw badInput(`${file} has no pairs (expected JSON lines with "sentence_good" and "sentence_bad").`);
  return items;
}

/** The items of a cloze file: `answer|answer<TAB>sentence with one [MASK]` a line. */
export function parseCloze(text: string, file: string): ClozeItem[] {
  const items: ClozeItem[] = [];
  linesOf(text).forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) return;
    const tab = raw.indexOf('\t');
    if (tab === -1) throw badInput(`${file}:${line}: expected "answer|answer<TAB>sentence with one [MASK]" (no tab).`);
    const answers = raw
      .slice(0, tab)
      .split('|')
      .map((answer) => answer.trim())
      .filter((answer) => answer !== '');
    const sentence = raw.slice(tab + 1).trim();
    if (answers.length === 0) throw badInput(`${file}:${line}: no answer before the tab.`);
    const masks = findMaskMarkers(sentence).length;
    if (masks !== 1) throw badInput(`${file}:${line}: the sentence has ${masks} [MASK] markers; a cloze line needs exactly one.`);
    items.push({ answers, sentence, line });
  });
  if (items.length === 0) throw badInput(`${file} has no cloze lines (expected "answer|answer<TAB>sentence with one [MASK]").`);
  return items;
}

/**
 * The sentences of a tagged file: `word<TAB>tag` a line, sentences separated by blank lines, `#` lines skipped
 * (a CoNLL-U comment; a word "#" is written `#<TAB>tag` and stays a word). A word holds no whitespace: the
 * tagger sees the sentence's words as given, joined by spaces.
 */
export function parseTagged(text: string, file: string): TaggedSentence[] {
  const sentences: TaggedSentence[] = [];
  let current: TaggedSentence | undefined;
  linesOf(text).forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') {
      current = undefined;
      return;
    }
    if (raw.startsWith('#') && !raw.startsWith('#\t')) return;
    const fields = raw.split('\t');
    if (fields.length !== 2) {
      throw badInput(`${file}:${line}: expected "word<TAB>tag" (${fields.length === 1 ? 'no tab' : `${fields.length - 1} tabs`}).`);
    }
    const word = fields[0]!.trim();
    const tag = fields[1]!.trim();
    if (word === '' || tag === '') throw badInput(`${file}:${line}: the ${word === '' ? 'word' : 'tag'} is empty.`);
    if (/\s/u.test(word)) throw badInput(`${file}:${line}: the word "${word}" holds whitespace; give one word a line.`);
    if (!current) sentences.push((current = { words: [], tags: [], line }));
    current.words.push(word);
    current.tags.push(tag);
  });
  if (sentences.length === 0) throw badInput(`${file} has no tagged words (expected "word<TAB>tag" lines, a blank line between sentences).`);
  return sentences;
}

/** Confusions listed in a tags result at most (the most frequent first). */
export const MAX_TAG_CONFUSIONS = 20;

/**
 * Accuracy over every word, by gold tag, and the most frequent confusions (gold -> predicted). `labels` are the
 * tagger's: a gold tag outside them can never be right and is listed in `tagsNotInModel`.
 */
export function tallyTags(
  sentences: readonly TaggedSentence[],
  predicted: readonly (readonly string[])[],
  labels: readonly string[],
): Omit<TagsEvalResult, 'model'> {
  const byTag = new Map<string, [number, number]>();
  const confusions = new Map<string, TagConfusion>();
  let correct = 0;
  let words = 0;
  sentences.forEach((sentence, s) => {
    sentence.tags.forEach((gold, w) => {
      const guess = predicted[s]![w]!;
      const counts = byTag.get(gold) ?? [0, 0];
      counts[1] += 1;
      words += 1;
      if (guess === gold) {
        counts[0] += 1;
        correct += 1;
      } else {
        const key = `${gold}\t${guess}`;
        const known = confusions.get(key) ?? { gold, predicted: guess, count: 0 };
        known.count += 1;
        confusions.set(key, known);
      }
      byTag.set(gold, counts);
    });
  });
  const tally = ([right, n]: [number, number]): TagTally => ({ words: n, accuracy: n === 0 ? 0 : right / n });
  const known = new Set(labels);
  return {
    sentences: sentences.length,
    words,
    accuracy: words === 0 ? 0 : correct / words,
    byTag: Object.fromEntries([...byTag].sort(([, a], [, b]) => b[1] - a[1]).map(([tag, counts]) => [tag, tally(counts)])),
    confusions: [...confusions.values()]
      .sort((a, b) => b.count - a.count || byText(a.gold, b.gold) || byText(a.predicted, b.predicted))
      .slice(0, MAX_TAG_CONFUSIONS),
    tagsNotInModel: [...byTag.keys()].filter((tag) => !known.has(tag)).sort(),
  };
}

/**
 * The distinct sentences of `items` in first-seen order, and where each pair's two are in that list
 * (a pair with the same sentence twice points at one entry, so it ties exactly).
 */
export function pairSentences(items: readonly PairItem[]): { sentences: string[]; good: number[]; bad: number[] } {
  const index = new Map<string, number>();
  const at = (sentence: string): number => {
    const known = index.get(sentence);
    if (known !== undefined) return known;
    index.set(sentence, index.size);
    return index.size - 1;
  };
  const good: number[] = [];
  const bad: number[] = [];
  for (const item of items) {
    good.push(at(item.good));
    bad.push(at(item.bad));
  }
  return { sentences: [...index.keys()], good, bad };
}

/** How many pairs are complete once the first `done` sentences are scored (for progress). */
export function pairsScored(good: readonly number[], bad: readonly number[], done: number): number {
  let count = 0;
  for (let i = 0; i < good.length; i++) if (good[i]! < done && bad[i]! < done) count++;
  return count;
}

/**
 * Accuracy overall, by term and (`byFile`) by file: a pair counts when its good sentence's score is
 * strictly higher than its bad one's; ties (and NaN) count as failures.
 */
export function tallyPairs(
  items: readonly PairItem[],
  goodScores: readonly number[],
  badScores: readonly number[],
  byFile: boolean,
): Omit<PairsEvalResult, 'model' | 'method'> {
  const groups = { all: new Map<string, [number, number]>(), term: new Map<string, [number, number]>(), file: new Map<string, [number, number]>() };
  const add = (map: Map<string, [number, number]>, key: string, correct: boolean): void => {
    const counts = map.get(key) ?? [0, 0];
    counts[0] += correct ? 1 : 0;
    counts[1] += 1;
    map.set(key, counts);
  };
  let ties = 0;
  items.forEach((item, i) => {
    const good = goodScores[i]!;
    const bad = badScores[i]!;
    if (good === bad) ties++;
    const correct = good > bad;
    add(groups.all, '', correct);
    add(groups.term, item.term, correct);
    add(groups.file, item.file, correct);
  });
  const tally = ([correct, pairs]: [number, number]): PairTally => ({ pairs, accuracy: pairs === 0 ? 0 : correct / pairs });
  const table = (map: Map<string, [number, number]>): Record<string, PairTally> =>
    Object.fromEntries([...map].sort(([a], [b]) => byText(a, b)).map(([key, counts]) => [key, tally(counts)]));
  const overall = tally(groups.all.get('') ?? [0, 0]);
  return {
    pairs: overall.pairs,
    accuracy: overall.accuracy,
    ties,
    byTerm: table(groups.term),
    ...(byFile ? { byFile: table(groups.file) } : {}),
  };
}

/** A fill or an answer as compared: trimmed, lower case, without WordPiece "##" or BPE / SentencePiece space marks. */
export function normaliseAnswer(text: string): string {
  return text.trim().replace(/^##/, '').replace(/^[\u0120\u2581]+/, '').trim().toLowerCase();
}

/** Vocabulary entries that are not words: `[unused12]`, `[CLS]`, `<pad>`, `<|endoftext|>`. */
export function isSpecialTokenText(token: string): boolean {
  return /^\[[^\]\s]*\]$/.test(token.trim()) || /^<[^>\s]+>$/.test(token.trim());
}

/** Whether the best fill, and any of the best five, is one of `answers`. */
export function clozeHit(answers: readonly string[], predicted: readonly string[]): { top1: boolean; top5: boolean } {
  const accepted = new Set(answers.map(normaliseAnswer));
  const best = predicted.slice(0, 5).map(normaliseAnswer);
  return { top1: best.length > 0 && accepted.has(best[0]!), top5: best.some((p) => accepted.has(p)) };
}

/** Top-1 and top-5 accuracy over cloze items, and the first misses (top-1 wrong). */
export function tallyCloze(
  items: readonly ClozeItem[],
  predictions: readonly (readonly string[])[],
): { items: number; top1: number; top5: number; misses: ClozeMiss[] } {
  let top1 = 0;
  let top5 = 0;
  const misses: ClozeMiss[] = [];
  items.forEach((item, i) => {
    const predicted = predictions[i]!.slice(0, 5);
    const hit = clozeHit(item.answers, predicted);
    if (hit.top1) top1++;
    if (hit.top5) top5++;
    if (!hit.top1 && misses.length < MAX_CLOZE_MISSES) {
      misses.push({ line: item.line, sentence: item.sentence, answers: [...item.answers], predicted: [...predicted] });
    }
  });
  const n = items.length;
  return { items: n, top1: n === 0 ? 0 : top1 / n, top5: n === 0 ? 0 : top5 / n, misses };
}

/**
 * A WordNet sense key, `lemma%ss_type:lex_filenum:lex_id:head_word:head_id` ("bank%1:17:01::",
 * "fair%5:00:00:clear:03"): the lemma in lower case, ss_type 1-5.
 */
const SENSE_KEY = /^[^%\sA-Z]+%[1-5]:\d\d:\d\d:[^:\s]*:[^:\s]*$/;

/** The lines of a sense file (`word<TAB>sense key<TAB>sentence`; `file` names it in errors). */
export function parseSenseItems(text: string, file: string): SenseItem[] {
  const items: SenseItem[] = [];
  linesOf(text).forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) return;
    const fields = raw.split('\t').map((field) => field.trim());
    if (fields.length !== 3) {
      const tabs = fields.length - 1;
      throw badInput(`${file}:${line}: expected "word<TAB>sense key<TAB>sentence" (${tabs} tab${tabs === 1 ? '' : 's'}).`);
    }
    const [word, key, sentence] = fields as [string, string, string];
    if (word === '' || sentence === '') throw badInput(`${file}:${line}: the ${word === '' ? 'word' : 'sentence'} is empty.`);
    if (!SENSE_KEY.test(key)) {
      throw badInput(`${file}:${line}: "${key}" is not a WordNet sense key (like bank%1:17:01:: or fair%5:00:00:clear:03).`);
    }
    items.push({ word, key, sentence, line });
  });
  if (items.length === 0) throw badInput(`${file} has no sense lines (expected "word<TAB>sense key<TAB>sentence").`);
  return items;
}

/** What the sense scorer answered for one item: its pick and every candidate's key, best first. */
export interface SensePick {
  senseKey: string;
  gloss: string;
  candidates: readonly string[];
}

/**
 * Accuracy over sense items, by the gold key's part of speech (n, v, a, r; satellites count as a), how many gold
 * keys were not among the candidates at all (the lemma morphy found, or the tagged part of speech, left them out),
 * and every miss with the gold key's rank among the candidates.
 */
export function tallySenses(
  items: readonly SenseItem[],
  picks: readonly SensePick[],
): Pick<SensesEvalResult, 'items' | 'accuracy' | 'byPos' | 'goldNotCandidate' | 'misses'> {
  let right = 0;
  let goldNotCandidate = 0;
  const byPos: Record<string, { items: number; right: number }> = {};
  const misses: SenseMiss[] = [];
  items.forEach((item, i) => {
    const pick = picks[i]!;
    const pos = posOfSenseKey(item.key) ?? '?';
    const tally = (byPos[pos] ??= { items: 0, right: 0 });
    tally.items++;
    if (pick.senseKey === item.key) {
      right++;
      tally.right++;
      return;
    }
    const rank = pick.candidates.indexOf(item.key);
    if (rank === -1) goldNotCandidate++;
    misses.push({ line: item.line, word: item.word, sentence: item.sentence, gold: item.key, predicted: pick.senseKey, predictedGloss: pick.gloss, goldRank: rank === -1 ? null : rank + 1 });
  });
  const share = (k: number, n: number): number => (n === 0 ? 0 : k / n);
  return {
    items: items.length,
    accuracy: share(right, items.length),
    byPos: Object.fromEntries(Object.entries(byPos).sort(([a], [b]) => byText(a, b)).map(([pos, t]) => [pos, { items: t.items, accuracy: share(t.right, t.items) }])),
    goldNotCandidate,
    misses,
  };
}
