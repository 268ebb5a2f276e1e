/**
 * What this process's caches check to notice a model file replaced on disk while it runs (Remove Model then Add
 * Model under the same id, a new export copied over an old one): the file's size and modification time. One `stat`
 * per look, so a cache can check it on every request; a full hash (`models/fingerprint.ts`) stays for what is
 * written to disk.
 */
import { stat } from 'node:fs/promises';
import { PromiseCache } from './promiseCache';

/** `size:mtimeMs`, or `missing` when the file cannot be stat'ed (its loader then says why). */
export async function fileStamp(file: string): Promise<string> {
  try {
    const { size, mtimeMs } = await stat(file);
    return `${size}:${mtimeMs}`;
  } catch {
    return 'missing';
  }
}

/**
 * A PromiseCache whose entry is loaded again when the file it was loaded from has changed since (its fileStamp). The
 * entry it replaces is dropped, not disposed: a request may still be using it, and it is freed when nothing holds it.
 */
export class StampedCache<V> {
  private readonly entries = new PromiseCache<string, V>();
  private readonly stamps = new Map<string, string>();

  async get(key: string, file: string, load: (key: string) => Promise<V>): Promise<V> {
    const stamp = await fileStamp(file);
    if (this.stamps.get(key) !== stamp) {
      this.entries.delete(key);
      this.stamps.set(key, stamp);
    }
    return this.entries.get(key, load);
  }

  clear(): void {
    this.entries.clear();
    this.stamps.clear();
  }
}
