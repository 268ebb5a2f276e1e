/**
 * Memoises loads as promises, so two concurrent first calls share one load, and evicts a rejected load
 * so that a retry (say, after the user fixed a model folder) can succeed. With `maxEntries`, the cache holds at
 * most that many keys and forgets the least recently used one first (a hover reads dozens of WordNet synsets; a
 * long session must not keep them all).
 */
export class PromiseCache<K, V> {
  private readonly entries = new Map<K, Promise<V>>();

  constructor(private readonly options: { maxEntries?: number } = {}) {}

  get(key: K, load: (key: K) => Promise<V>): Promise<V> {
    const cached = this.entries.get(key);
    if (cached) {
      if (this.options.maxEntries !== undefined) {
        // a Map iterates in insertion order: re-inserting marks the key as the most recently used
        this.entries.delete(key);
        this.entries.set(key, cached);
      }
      return cached;
    }
    const loading = (async () => load(key))();
    const max = this.options.maxEntries;
    if (max !== undefined) {
      while (this.entries.size >= Math.max(1, max)) this.entries.delete(this.entries.keys().next().value as K);
    }
    this.entries.set(key, loading);
    loading.catch(() => {
      if (this.entries.get(key) === loading) this.entries.delete(key);
    });
    return loading;
  }

  /** The key's promise, without loading it or marking it used. */
  peek(key: K): Promise<V> | undefined {
    return this.entries.get(key);
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  get size(): number {
    return this.entries.size;
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
