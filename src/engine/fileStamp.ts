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

/** How long a file's stamp is trusted before a cache looks at it again: a hover or fill asks several caches. */
export const STAMP_MAX_AGE_MS = 1000;

/**
 * A PromiseCache whose entry is loaded again when the file it was loaded from has changed since (its fileStamp),
 * looked at no more often than every `maxAgeMs` per key (a request's several lookups cost no syscall; a replaced file
 * is noticed within that time). The entry it replaces is handed to `replaced` (a session releases its native memory
 * once the requests still using it are done); without it, it is dropped and freed when nothing holds it.
 */
export class StampedCache<V> {
  private readonly entries = new PromiseCache<string, V>();
  private readonly stamps = new Map<string, { stamp: string; at: number }>();

  constructor(
    private readonly maxAgeMs = STAMP_MAX_AGE_MS,
    private readonly replaced?: (old: V) => void,
  ) {}

  /**
   * The entry for `key`, loaded again when `file` changed. `stillValid`, when given, is asked about a loaded entry
   * whenever the stamp is looked at again (so no more often than the stamp): an entry that names another file, say,
   * checks that file is still there.
   */
  async get(
    key: string,
    file: string,
    load: (key: string) => Promise<V>,
    stillValid?: (value: V) => Promise<boolean>,
  ): Promise<V> {
    const known = this.stamps.get(key);
    const now = performance.now();
    if (!known || now - known.at >= this.maxAgeMs || !this.entries.has(key)) {
      const stamp = await fileStamp(file);
      if (this.stamps.get(key)?.stamp !== stamp) {
        this.forget(key); // another call may have looked meanwhile
      } else if (stillValid && (await this.invalid(key, stillValid))) {
        this.forget(key);
      }
      this.stamps.set(key, { stamp, at: now });
    }
    return this.entries.get(key, load);
  }

  /** Whether the key's loaded entry fails `stillValid` and is still the one asked about (not replaced meanwhile). */
  private async invalid(key: string, stillValid: (value: V) => Promise<boolean>): Promise<boolean> {
    const entry = this.entries.peek(key);
    if (!entry) return false;
    const valid = await entry.then(stillValid, () => true); // a failed load is evicted by the PromiseCache itself
    return !valid && this.entries.peek(key) === entry;
  }

  private forget(key: string): void {
    const old = this.entries.peek(key);
    this.entries.delete(key);
    if (old && this.replaced) {
      const replaced = this.replaced;
      old.then(replaced, () => undefined); // a failed load has nothing to release
    }
  }

  /** Forgets a key's entry (say, a file it named has gone): the next get loads it again. */
  delete(key: string): void {
    this.forget(key);
    this.stamps.delete(key);
  }

  clear(): void {
    this.entries.clear();
    this.stamps.clear();
  }
}
