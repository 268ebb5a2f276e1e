/**
 * A causal language model (GPT-2 family) on a session handed to it: builds the feeds the session declares
 * and reads its outputs by name. Shared by generation and scoring; runs in the worker, imports no ORT.
 *
 * Graph contract (Optimum / transformers.js exports, and ours):
 *   inputs   input_ids [B, T]; optional attention_mask [B, P+T], position_ids [B, T],
 *            past_key_values.{i}.key / .value [B, kv_heads, P, head_dim] (P may be 0),
 *            use_cache_branch bool [1] (merged decoders: false on the first step)
 *   outputs  logits [B, T, V]; present.{i}.key / .value [B, kv_heads, P+T, head_dim] when there is a past
 * A graph without past inputs (or without matching present outputs) still works: every step recomputes.
 */
import { modelCorrupt } from './errors';
import type { HostTensor, ModelSession } from './runtime/session';

export const LOGITS = 'logits';
const PAST = /^past_key_values\.(\d+)\.(key|value)$/;
const KNOWN_INPUTS = new Set(['input_ids', 'attention_mask', 'position_ids', 'use_cache_branch']);

export interface CausalConfig {
  /** Tokens the model can see at once (n_positions / max_position_embeddings). */
  contextSize: number;
  /** Key/value heads and their width, for the empty past of the first step. */
  kvHeads: number | undefined;
  headDim: number | undefined;
  eosIds: number[];
  bosId: number | undefined;
}

const DEFAULT_CONTEXT = 1024;

function positiveInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

function first(config: Record<string, unknown>, keys: readonly string[]): number | undefined {
  for (const key of keys) {
    const value = positiveInt(config[key]);
    if (value !== undefined) return value;
  }
  return undefined;
}

function tokenIds(value: unknown): number[] {
  const list = Array.isArray(value) ? value : [value];
  return list.filter((id): id is number => typeof id === 'number' && Number.isInteger(id) && id >= 0);
}

/** Reads the fields generation needs from config.json (GPT-2 names first, then the Llama-style ones). */
export function parseCausalConfig(config: Record<string, unknown>): CausalConfig {
  const heads = first(config, ['n_head', 'num_attention_heads', 'num_heads']);
  const kvHeads = first(config, ['num_key_value_heads', 'n_head_kv', 'multi_query_group_num']) ?? heads;
  const hidden = first(config, ['n_embd', 'hidden_size', 'd_model']);
  const headDim = first(config, ['head_dim']) ?? (heads && hidden ? hidden / heads : undefined);
  const [bosId] = tokenIds(config['bos_token_id']);
  return {
    contextSize: first(config, ['n_positions', 'n_ctx', 'max_position_embeddings']) ?? DEFAULT_CONTEXT,
    kvHeads,
    headDim: headDim !== undefined && Number.isInteger(headDim) ? headDim : undefined,
    eosIds: tokenIds(config['eos_token_id']),
    bosId,
  };
}

/** The key/value cache: one tensor per past input name. */
export type KvCache = Map<string, HostTensor>;

export interface StepResult {
  /** Logits of every position of this step, [T, vocab] row-major. */
  logits: Float32Array;
  vocab: number;
  /** The cache to feed next step; undefined when the model has none (or it was not asked for). */
  cache: KvCache | undefined;
}

const int64 = (values: ArrayLike<number>, dims: number[]): HostTensor => ({
  type: 'int64',
  data: BigInt64Array.from(Array.from(values, (v) => BigInt(v))),
  dims,
});

export class CausalLm {
  /** past input name -> present output name. Empty when the graph cannot reuse a cache. */
  private readonly pastToPresent = new Map<string, string>();
  /** Past inputs the graph declares (fed empty when there is no cache). */
  private readonly pastInputs: string[] = [];
  private readonly inputs: ReadonlySet<string>;

  constructor(
    private readonly session: ModelSession,
    private readonly config: CausalConfig,
    readonly modelId: string,
  ) {
    this.inputs = new Set(session.inputNames);
    if (!this.inputs.has('input_ids')) {
      throw modelCorrupt(`Model "${modelId}" has no "input_ids" input (inputs: ${session.inputNames.join(', ')}).`);
    }
    if (!session.outputNames.includes(LOGITS)) {
      throw modelCorrupt(`Model "${modelId}" has no "${LOGITS}" output (outputs: ${session.outputNames.join(', ')}).`);
    }
    for (const name of session.inputNames) {
      if (PAST.test(name)) this.pastInputs.push(name);
      else if (!KNOWN_INPUTS.has(name)) {
        throw modelCorrupt(`Model "${modelId}" needs an input "${name}" that a causal LM does not have.`);
      }
    }
    if (this.pastInputs.length > 0 && (config.kvHeads === undefined || config.headDim === undefined)) {
      throw modelCorrupt(
        `Model "${modelId}" takes past_key_values but config.json does not give the head count and width ` +
          '(n_head and n_embd, or num_attention_heads and hidden_size).',
      );
    }
    const outputs = new Set(session.outputNames);
    const presents = this.pastInputs.map((name) => name.replace(/^past_key_values\./, 'present.'));
    if (presents.every((name) => outputs.has(name))) {
      this.pastInputs.forEach((name, i) => this.pastToPresent.set(name, presents[i]!));
    }
  }

  /** True when the graph returns a cache that the next step can take (past_key_values -> present). */
  get canCache(): boolean {
    return this.pastToPresent.size > 0;
  }

  get contextSize(): number {
    return this.config.contextSize;
  }

  /**
   * Runs `ids` (positions `pastLength` .. pastLength + ids.length - 1) on top of `cache` (undefined: an
   * empty past). `keepCache` asks for the present tensors (ignored when the graph cannot cache).
   */
  async step(ids: readonly number[], cache: KvCache | undefined, keepCache: boolean): Promise<StepResult> {
    const pastLength = cache ? this.pastLengthOf(cache) : 0;
    const t = ids.length;
    const feeds: Record<string, HostTensor> = { input_ids: int64(ids, [1, t]) };
    if (this.inputs.has('attention_mask')) {
      feeds['attention_mask'] = { type: 'int64', data: new BigInt64Array(pastLength + t).fill(1n), dims: [1, pastLength + t] };
    }
    if (this.inputs.has('position_ids')) {
      feeds['position_ids'] = int64(Array.from({ length: t }, (_, i) => pastLength + i), [1, t]);
    }
    if (this.inputs.has('use_cache_branch')) {
      feeds['use_cache_branch'] = { type: 'bool', data: Uint8Array.of(cache ? 1 : 0), dims: [1] };
    }
    for (const name of this.pastInputs) feeds[name] = cache?.get(name) ?? this.emptyPast();

    const wantCache = keepCache && this.canCache;
    const outputs = wantCache ? [LOGITS, ...this.pastToPresent.values()] : [LOGITS];
    const results = await this.session.run(feeds, outputs);
    const logits = results[LOGITS];
    if (!logits || logits.type !== 'float32' || logits.dims.length !== 3 || logits.dims[1] !== t) {
      const got = logits ? `${logits.type} [${logits.dims.join(', ')}]` : 'nothing';
      throw modelCorrupt(`Model "${this.modelId}": "${LOGITS}" must be float32 [1, ${t}, vocab]; got ${got}.`);
    }
    const vocab = logits.dims[2]!;
    let next: KvCache | undefined;
    if (wantCache) {
      next = new Map();
      for (const [past, present] of this.pastToPresent) {
        const tensor = results[present];
        if (!tensor || tensor.dims[2] !== pastLength + t) {
          throw modelCorrupt(`Model "${this.modelId}": "${present}" is missing or has the wrong length.`);
        }
        next.set(past, tensor);
      }
    }
    return { logits: logits.data, vocab, cache: next };
  }

  private pastLengthOf(cache: KvCache): number {
    const [any] = cache.values();
    return any?.dims[2] ?? 0;
  }

  private emptyPast(): HostTensor {
    return { type: 'float32', data: new Float32Array(0), dims: [1, this.config.kvHeads!, 0, this.config.headDim!] };
  }
}

/** Row `row` of a [T, vocab] logits block. */
export function logitsRow(logits: Float32Array, vocab: number, row: number): Float32Array {
  return logits.subarray(row * vocab, (row + 1) * vocab);
}
