/**
 * Loads a model folder's tokenizer (tokenizer.json + tokenizer_config.json) with @huggingface/tokenizers,
 * memoised per folder as a promise; a failed load is forgotten so a fixed folder loads on the next try.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { modelCorrupt, toLensError } from './errors';
import { PromiseCache } from './promiseCache';

export type { Tokenizer };

const tokenizers = new PromiseCache<string, Tokenizer>();

export function loadTokenizer(folder: string): Promise<Tokenizer> {
  return tokenizers.get(path.resolve(folder), loadNow);
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
