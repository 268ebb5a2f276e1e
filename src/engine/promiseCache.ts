/**
 * Memoises loads as promises, so two concurrent first calls share one load, and evicts a rejected load
 * so that a retry (say, after the user fixed a model folder) can succeed.
 */
export class PromiseCache<K, V> {
  private readonly entries = new Map<K, Promise<V>>();

  get(key: K, load: (key: K) => Promise<V>): Promise<V> {
    const cached = this.entries.get(key);
    if (cached) return cached;
    const loading = (async () => load(key))();
    this.entries.set(key, loading);
    loading.catch(() => {
      if (this.entries.get(key) === loading) this.entries.delete(key);
    });
    return loading;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
