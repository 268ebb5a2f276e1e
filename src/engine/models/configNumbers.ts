/**
 * Numbers read from a model's config.json, where exporters and model families name the same number
 * differently (`n_head` / `num_attention_heads`, `n_positions` / `max_position_embeddings`).
 */

/** `value` when it is a whole number above 0, else undefined. */
export function positiveInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

/** The first of `keys` whose value in `config` is a whole number above 0. */
export function firstPositiveInt(config: Record<string, unknown>, keys: readonly string[]): number | undefined {
  for (const key of keys) {
    const value = positiveInt(config[key]);
    if (value !== undefined) return value;
  }
  return undefined;
}
