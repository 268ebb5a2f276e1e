/**
 * WordNet as a sense-tagged set: the example sentences of each synset that contain (an inflection of) one of the
 * synset's own single-word lemmas, for lemmas with 2+ senses in that part of speech, split 80/20 into train and
 * held-out by a hash of the synset and the sentence (deterministic; the same split as training/wordnet.py).
 */
import { createHash } from 'node:crypto';
import { POS_LIST, type Pos, type Sense, type Synset, type WordNet } from '../wordnet';
import { splitWords } from '../words';

export interface TaggedExample {
  lemma: string;
  pos: Pos;
  synsetId: string;
  senseKey: string;
  senseNumber: number;
  /** The example sentence as WordNet writes it. */
  sentence: string;
  words: string[];
  /** The lemma's position in `words`. */
  index: number;
  split: 'train' | 'test';
}

export interface WordNetTables {
  synsets: Map<string, Synset>;
  /** `${lemma}|${pos}` -> senses in sense order. */
  senses: Map<string, Sense[]>;
}

export const sensesKey = (lemma: string, pos: Pos): string => `${lemma}|${pos}`;

/** Every synset and every sense of the database (for builds: ~120k synsets, ~200k senses). */
export async function loadTables(wordnet: WordNet): Promise<WordNetTables> {
  await wordnet.ready();
  const synsets = new Map<string, Synset>();
  for (const pos of POS_LIST) for (const s of await wordnet.allSynsets(pos)) synsets.set(s.id, s);
  const senses = new Map<string, Sense[]>();
  for (const sense of await wordnet.allSenses()) {
    const key = sensesKey(sense.lemma, sense.pos);
    let list = senses.get(key);
    if (!list) senses.set(key, (list = []));
    list.push(sense);
  }
  for (const list of senses.values()) list.sort((a, b) => a.senseNumber - b.senseNumber);
  return { synsets, senses };
}

/** 0..4 from the sha1 of `synsetId|sentence`; 0 is held out. */
export function splitOf(synsetId: string, sentence: string): 'train' | 'test' {
  const h = parseInt(createHash('sha1').update(`${synsetId}|${sentence}`).digest('hex').slice(0, 8), 16);
  return h % 5 === 0 ? 'test' : 'train';
}

export function taggedExamples(wordnet: WordNet, tables: WordNetTables): TaggedExample[] {
  const out: TaggedExample[] = [];
  for (const synset of tables.synsets.values()) {
    for (const sentence of synset.examples) {
      const words = splitWords(sentence).map((w) => w.text);
      const lower = words.map((w) => w.toLowerCase());
      for (const written of synset.words) {
        const lemma = written.toLowerCase();
        if (lemma.includes('_')) continue;
        const senses = tables.senses.get(sensesKey(lemma, synset.pos)) ?? [];
        if (senses.length < 2) continue;
        const index = lower.findIndex((w) => w === lemma || wordnet.morphyNow(w, synset.pos).includes(lemma));
        if (index < 0) continue;
        const sense = senses.find((s) => s.synsetId === synset.id);
        if (!sense) continue;
        out.push({
          lemma,
          pos: synset.pos,
          synsetId: synset.id,
          senseKey: sense.senseKey,
          senseNumber: sense.senseNumber,
          sentence,
          words,
          index,
          split: splitOf(synset.id, sentence),
        });
        break;
      }
    }
  }
  return out;
}
