/** WordNet's parts of speech (adjective satellites `s` count as `a`, as in WordNet's index files). */
export type Pos = 'n' | 'v' | 'a' | 'r';

export const POS_LIST: readonly Pos[] = ['n', 'v', 'a', 'r'];

export const POS_FILE: Readonly<Record<Pos, string>> = { n: 'noun', v: 'verb', a: 'adj', r: 'adv' };

export const POS_NAME: Readonly<Record<Pos, string>> = { n: 'noun', v: 'verb', a: 'adjective', r: 'adverb' };

/** A synset as read from data.<pos>. */
export interface Synset {
  /** `<8-digit offset><pos>`, e.g. `09236472n`: unique across the database. */
  id: string;
  offset: number;
  pos: Pos;
  /** WordNet's ss_type: `s` for an adjective satellite. */
  type: 'n' | 'v' | 'a' | 's' | 'r';
  lexFile: number;
  /** The synonyms, as written in WordNet (underscores for spaces, markers like "(a)" removed). */
  words: string[];
  /** The definition part of the gloss. */
  definition: string;
  /** The quoted example sentences of the gloss. */
  examples: string[];
  /** Relations to other synsets (hypernym, hyponym, ...), in the order data.<pos> lists them. */
  pointers: Pointer[];
}

/**
 * One relation of a synset: WordNet's pointer symbol (`@` hypernym, `~` hyponym, `&` similar to, `+` derivationally
 * related, ...; see wninput(5WN)) and the target synset. A lexical pointer (between two lemmas, not the whole synsets)
 * still names the target synset here.
 */
export interface Pointer {
  symbol: string;
  /** The target's id (`09460358n`; an adjective satellite's is `a`, as in data.adj). */
  synsetId: string;
}

/** One sense of a lemma: a (lemma, synset) pair with its sense key and frequency information. */
export interface Sense {
  lemma: string;
  pos: Pos;
  synsetId: string;
  /** e.g. `bank%1:17:01::` */
  senseKey: string;
  /** 1 = the most frequent sense of this lemma and part of speech (SemCor counts). */
  senseNumber: number;
  /** How often this sense was tagged in the semantic concordances. */
  tagCount: number;
}

export const synsetId = (offset: number, pos: Pos): string => `${String(offset).padStart(8, '0')}${pos}`;

/** Part of speech from a sense key's ss_type digit (1 n, 2 v, 3 a, 4 r, 5 adjective satellite). */
export function posOfSenseKey(key: string): Pos | undefined {
  const digit = key.slice(key.indexOf('%') + 1, key.indexOf('%') + 2);
  return ({ '1': 'n', '2': 'v', '3': 'a', '4': 'r', '5': 'a' } as Record<string, Pos>)[digit];
}
