/**
 * The sense signals of one candidate synset for a word in context, as a feature vector for the scorer:
 *   elmo_token, elmo_lstm1, elmo_lstm2  cosine of the word's ELMo vector to the synset's example centroid, per layer
 *   elmo_has                            1 when the synset has an ELMo centroid (else the cosines are 0)
 *   bert_last, bert_prev, bert_has      the same with BERT's last and second-to-last layers (word pieces averaged)
 *   glove_bag                           cosine of the context's bag of GloVe vectors to the synset's signature bag
 *                                       (gloss + examples, other lemmas, related synsets' words: `signatureWords`)
 *   lesk                                log(1 + shared content words of context and gloss+examples) (simplified Lesk)
 *   prior_rank, prior_count             1 / sense number, log(1 + tag count): the sense-frequency prior
 */
import type { Pos, Sense, Synset } from '../wordnet';
import { contentWordsOf } from './text';

export const FEATURES = [
  'elmo_token',
  'elmo_lstm1',
  'elmo_lstm2',
  'elmo_has',
  'bert_last',
  'bert_prev',
  'bert_has',
  'glove_bag',
  'lesk',
  'prior_rank',
  'prior_count',
] as const;

export type FeatureName = (typeof FEATURES)[number];

/** Features by signal, in the order the evaluation adds them. */
export const SIGNALS = {
  prior: ['prior_rank', 'prior_count'],
  lesk: ['lesk'],
  glove: ['glove_bag'],
  elmo: ['elmo_token', 'elmo_lstm1', 'elmo_lstm2', 'elmo_has'],
  bert: ['bert_last', 'bert_prev', 'bert_has'],
} as const satisfies Record<string, readonly FeatureName[]>;

export type SignalName = keyof typeof SIGNALS;

export const SIGNAL_NAMES = Object.keys(SIGNALS) as SignalName[];

export const signalOf = (feature: FeatureName): SignalName =>
  SIGNAL_NAMES.find((s) => (SIGNALS[s] as readonly string[]).includes(feature))!;

/** A candidate sense of the word under study: a (lemma, synset) pair with its gloss. */
export interface Candidate {
  senseKey: string;
  synsetId: string;
  lemma: string;
  pos: Pos;
  senseNumber: number;
  tagCount: number;
  definition: string;
  examples: string[];
  /** The synset's other lemmas (for display). */
  words: string[];
  /** The synsets `relatedSynsetIds` names (for the GloVe signature); empty when not read. */
  related: readonly RelatedSynset[];
}

/** What the GloVe signature takes from a related synset. */
export type RelatedSynset = Pick<Synset, 'id' | 'words' | 'definition' | 'examples'>;

/**
 * The relations whose synsets' words join a candidate's GloVe signature, by group: hypernyms, hyponyms, similar to,
 * domains, holonyms, meronyms, and the lexical ones (derivation, pertainym, attribute, entailment, cause, participle).
 * Chosen by training/senses/glove_signatures.mjs (GloVe 1-NN and a prior + lesk + GloVe scorer, held-out WordNet
 * examples and the hand-written sentences); "also see" and verb groups did not help.
 */
export const RELATED_POINTERS: readonly (readonly string[])[] = [
  ['@', '@i'],
  ['~', '~i'],
  ['&'],
  [';c', '-c', ';r', '-r', ';u', '-u'],
  ['#m', '#s', '#p'],
  ['%m', '%s', '%p'],
  ['+', '\\', '=', '*', '>', '<'],
];

/** At most this many synsets of each group (a hover reads each one: 46 more synsets for "bank", 177 for "run"). */
export const RELATED_PER_GROUP = 5;

/** The related synsets of `synset` a signature uses, group by group in RELATED_POINTERS order, the first few of each. */
export function relatedSynsetIds(synset: Pick<Synset, 'pointers'>): string[] {
  return RELATED_POINTERS.flatMap((symbols) =>
    [...new Set(synset.pointers.filter((p) => symbols.includes(p.symbol)).map((p) => p.synsetId))].slice(0, RELATED_PER_GROUP),
  );
}

export function candidateOf(sense: Sense, synset: Synset, related: readonly RelatedSynset[] = []): Candidate {
  return {
    senseKey: sense.senseKey,
    synsetId: sense.synsetId,
    lemma: sense.lemma,
    pos: sense.pos,
    senseNumber: sense.senseNumber,
    tagCount: sense.tagCount,
    definition: synset.definition,
    examples: synset.examples,
    words: synset.words.map((w) => w.replace(/_/g, ' ')),
    related,
  };
}

/** What is known about one candidate in one context; `undefined` = that signal has nothing to say. */
export interface CandidateSignals {
  /** Cosine per ELMo layer (token, lstm1, lstm2) to the synset's centroid. */
  elmo?: readonly number[] | undefined;
  /** Cosine for BERT's last and second-to-last layers. */
  bert?: readonly number[] | undefined;
  /** Cosine of the context bag to the gloss bag (GloVe). */
  glove?: number | undefined;
  /** Content words shared by the context and the gloss+examples. */
  overlap: number;
  senseNumber: number;
  tagCount: number;
}

export function featureVector(s: CandidateSignals): number[] {
  const elmo = s.elmo ?? [0, 0, 0];
  const bert = s.bert ?? [0, 0];
  return [
    elmo[0] ?? 0,
    elmo[1] ?? 0,
    elmo[2] ?? 0,
    s.elmo ? 1 : 0,
    bert[0] ?? 0,
    bert[1] ?? 0,
    s.bert ? 1 : 0,
    s.glove ?? 0,
    Math.log1p(s.overlap),
    1 / Math.max(1, s.senseNumber),
    Math.log1p(Math.max(0, s.tagCount)),
  ];
}

/** True when some candidate has contextual evidence (a centroid, a gloss bag match, a shared word). */
export function hasEvidence(signals: readonly CandidateSignals[]): boolean {
  return signals.some((s) => s.elmo !== undefined || s.bert !== undefined || (s.glove ?? 0) !== 0 || s.overlap > 0);
}

/** A crude stemmer so "rivers"/"river" and "banking"/"bank" match in the overlap count. */
export function stem(word: string): string {
  let w = word.toLowerCase().replace(/['’]s$/, '');
  if (w.length > 4 && w.endsWith('ies')) return w.slice(0, -3) + 'y';
  if (w.length > 5 && w.endsWith('ing')) w = w.slice(0, -3);
  else if (w.length > 4 && w.endsWith('ed')) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith('es') && /(s|x|z|ch|sh)es$/.test(w)) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss')) w = w.slice(0, -1);
  return w;
}

/** Content words of a candidate's gloss (definition + examples), minus its own lemmas and `exclude`. */
export function glossWords(candidate: Pick<Candidate, 'definition' | 'examples' | 'words' | 'lemma'>, examples?: readonly string[], exclude: Iterable<string> = []): string[] {
  const skip = new Set<string>([candidate.lemma.toLowerCase(), ...candidate.words.map((w) => w.toLowerCase()), ...exclude]);
  const text = [candidate.definition, ...(examples ?? candidate.examples)].join(' . ');
  return contentWordsOf(text, skip).filter((w) => !skip.has(stem(w)));
}

/**
 * The words of a candidate's GloVe signature: its gloss words (`glossWords`), the words of its other lemmas
 * (multiword ones split), and the lemma words, definitions and examples of its related synsets; never the lemma or
 * `exclude` (nor words with their stem). `keep` chooses the example sentences used, the candidate's own and its
 * related synsets' (a build keeps held-out sentences out).
 */
export function signatureWords(
  candidate: Pick<Candidate, 'synsetId' | 'definition' | 'examples' | 'words' | 'lemma' | 'related'>,
  exclude: readonly string[] = [],
  keep: (sentence: string, synsetId: string) => boolean = () => true,
): string[] {
  const skip = new Set([candidate.lemma.toLowerCase(), ...exclude]);
  for (const w of [...skip]) skip.add(stem(w));
  const allowed = (w: string) => !skip.has(w) && !skip.has(stem(w));
  const lemmaWords = (words: readonly string[]) => words.flatMap((w) => contentWordsOf(w.toLowerCase().replace(/[_-]/g, ' '))).filter(allowed);
  const out = glossWords(candidate, candidate.examples.filter((x) => keep(x, candidate.synsetId)), exclude);
  out.push(...lemmaWords(candidate.words));
  for (const r of candidate.related) {
    out.push(...lemmaWords(r.words));
    for (const text of [r.definition, ...r.examples.filter((x) => keep(x, r.id))]) out.push(...contentWordsOf(text).filter(allowed));
  }
  return out;
}

/** How many distinct stems the context shares with the gloss. */
export function overlapCount(context: readonly string[], gloss: readonly string[]): number {
  const a = new Set(context.map(stem));
  let n = 0;
  for (const s of new Set(gloss.map(stem))) if (a.has(s)) n++;
  return n;
}
