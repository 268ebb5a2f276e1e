/**
 * Loads a model folder's tokenizer (tokenizer.json + tokenizer_config.json) with @huggingface/tokenizers,
 * memoised per folder as a promise; a failed load is forgotten so a fixed folder loads on the next try.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { modelCorrupt, toLensError } from './errors';
import { StampedCache } from './fileStamp';

export type { Tokenizer };

const tokenizers = new StampedCache<Tokenizer>();

export function loadTokenizer(folder: string): Promise<Tokenizer> {
  const dir = path.resolve(folder);
  return tokenizers.get(dir, path.join(dir, 'tokenizer.json'), loadNow);
}

/** Forgets every loaded tokenizer (tests, or after model folders changed on disk). */
export function clearTokenizerCache(): void {
  tokenizers.clear();
}

async function loadNow(folder: string): Promise<Tokenizer> {
  const tokenizerJson = await readJson(path.join(folder, 'tokenizer.json'), true);
  const config = (await readJson(path.join(folder, 'tokenizer_config.json'), false)) ?? {};
  try {
    return new Tokenizer(tokenizerJson as object, config as object);
  } catch (error) {
    throw modelCorrupt(`${folder}: tokenizer.json could not be loaded (${toLensError(error).message}).`, error);
  }
}

async function readJson(file: string, required: boolean): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw modelCorrupt(`${file} is missing or unreadable.`, error);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw modelCorrupt(`${file} is not valid JSON (${toLensError(error).message}).`, error);
  }
}

const textTables = new WeakMap<Tokenizer, readonly string[]>();

/**
 * The text each token id adds after an ordinary token (index = id; '' for special tokens). Decoded after an anchor
 * ("a") rather than alone: SentencePiece-style decoders drop a word's leading space at the very start of a text, and
 * this table is compared with what tokens add inside one. A token that holds part of a UTF-8 character gets U+FFFD.
 * Built on first use (about 10 µs per token: 80 ms for an 8k vocabulary) and kept while the tokenizer lives.
 * @huggingface/tokenizers has no such table: its vocabulary holds the tokens' internal spellings ("Ġthe").
 */
export function tokenTexts(tokenizer: Tokenizer): readonly string[] {
  let table = textTables.get(tokenizer);
  if (table) return table;
  let size = 0;
  for (const id of tokenizer.get_vocab(true).values()) size = Math.max(size, id + 1);
  const anchor = tokenizer.encode('a', { add_special_tokens: false }).ids;
  const decode = (ids: number[]): string => tokenizer.decode(ids, { skip_special_tokens: true });
  const before = decode(anchor);
  const texts: string[] = [];
  for (let id = 0; id < size; id++) {
    const text = decode([...anchor, id]);
    texts.push(text.startsWith(before) ? text.slice(before.length) : decode([id]));
  }
  textTables.set(tokenizer, texts);
  return texts;
}
