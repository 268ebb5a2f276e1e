/**
 * Senses filtered by part of speech: the scorer considers the senses of the tagged part of speech, and falls back to
 * every part of speech when the tagger is unsure or the word has no sense of that part of speech. Pure: the tag comes
 * from the tagger run by sense.ts (or, offline, by training/senses/build.mjs).
 *
 * Why POS_FILTER_THRESHOLD = 0.9: filtering on a tag that is wrong removes the right sense outright, while not
 * filtering leaves the part of speech to the scorer. If the tag is right with probability p and the scorer alone picks
 * a sense of the right part of speech with probability q, filtering gains p(1 - q) (the scorer's part-of-speech errors
 * it fixes) and loses (1 - p)q (the right answers a wrong tag throws away): it pays when p > q. The scorer picked the
 * wrong part of speech on 5 of 52 hand-written sentences (issue 14), q ≈ 0.9, so the tag is trusted from p = 0.9.
 * That reads the tagger's softmax as calibrated; an overconfident tagger needs a higher threshold (the evaluation can
 * sweep it with `posThreshold`).
 */
import type { Pos } from '../wordnet';

export const POS_FILTER_THRESHOLD = 0.9;

/** Universal tags (and the Penn Treebank's, by prefix) -> WordNet parts of speech ('s' = adjective satellite). */
const UNIVERSAL_TO_WORDNET: Readonly<Record<string, readonly string[]>> = {
  NOUN: ['n'],
  PROPN: ['n'],
  VERB: ['v'],
  ADJ: ['a', 's'],
  ADV: ['r'],
};
const PENN_TO_WORDNET: readonly [RegExp, readonly string[]][] = [
  [/^NN/, ['n']],
  [/^VB/, ['v']],
  [/^JJ/, ['a', 's']],
  [/^RB/, ['r']],
];

/** The WordNet parts of speech of a tag; undefined for tags WordNet has no senses for (DET, ADP, ., NER labels, ...). */
export function wordnetPosOf(tag: string): readonly string[] | undefined {
  const universal = UNIVERSAL_TO_WORDNET[tag.toUpperCase()];
  if (universal) return universal;
  return PENN_TO_WORDNET.find(([pattern]) => pattern.test(tag))?.[1];
}

/** What the filter did, reported with the sense (SenseResult.tag). */
export interface PosDecision {
  /** Candidates kept (all of them when the filter did not apply). */
  keep: boolean[];
  /** True when the tag was trusted: only the senses of its part of speech were scored. */
  filtered: boolean;
  /** The WordNet part of speech the tag names (n, v, a, r), when it names one. */
  wordnetPos?: Pos;
  /** Why every part of speech was kept, when it was. */
  reason?: 'disabled' | 'unsure' | 'not-a-wordnet-pos' | 'no-senses-of-that-pos';
}

/**
 * Which candidates the scorer considers given the word's tag. `tag` undefined or `enabled` false: all of them.
 */
export function posFilter(
  candidates: readonly { pos: string }[],
  tag: { tag: string; probability: number } | undefined,
  options: { enabled?: boolean; threshold?: number } = {},
): PosDecision {
  const all = candidates.map(() => true);
  if (!tag) return { keep: all, filtered: false };
  const wanted = wordnetPosOf(tag.tag);
  const wordnetPos = wanted?.[0] as Pos | undefined;
  const named = wordnetPos ? { wordnetPos } : {};
  if (options.enabled === false) return { keep: all, filtered: false, ...named, reason: 'disabled' };
  if (!wanted) return { keep: all, filtered: false, reason: 'not-a-wordnet-pos' };
  if (tag.probability < (options.threshold ?? POS_FILTER_THRESHOLD)) return { keep: all, filtered: false, ...named, reason: 'unsure' };
  const keep = candidates.map((c) => wanted.includes(c.pos));
  if (!keep.some(Boolean)) return { keep: all, filtered: false, ...named, reason: 'no-senses-of-that-pos' };
  return { keep, filtered: true, ...named };
}
