/**
 * A causal language model (GPT-2 family) on a session handed to it: builds the feeds the session declares
 * and reads its outputs by name. Shared by generation and scoring; runs in the worker, imports no ORT.
 *
 * Graph contract (Optimum / transformers.js exports, and ours):
 *   inputs   input_ids [B, T]; optional attention_mask [B, P+T], position_ids [B, T] (int64, or int32 when the
 *            graph declares it; see models/io.ts), past_key_values.{i}.key / .value [B, kv_heads, P, head_dim]
 *            (P may be 0) or ONNX Runtime's GPT-2 past_{i} [2, B, heads, P, head_dim] (models/kvCache.ts),
 *            use_cache_branch bool [1] (merged decoders: false on the first step)
 *   outputs  logits [B, T, V] (or the first float output of that shape); present.{i}.key / .value
 *            [B, kv_heads, P+T, head_dim] (or present_{i} [2, B, heads, P+T, head_dim]) when there is a past
 * A graph without past inputs (or without matching present outputs) still works: every step recomputes.
 */
import { modelCorrupt } from './errors';
import { firstPositiveInt } from './models/configNumbers';
import { findLogitsOutput, noLogitsError, tokenFeeds, tokenInputs, type TokenInputs } from './models/io';
import { cacheLayoutOf, isPastInput, type CacheLayout } from './models/kvCache';
import type { HostTensor, ModelSession } from './runtime/session';

const USE_CACHE_BRANCH = 'use_cache_branch';

export interface CausalConfig {
  /** Tokens the model can see at once (n_positions / max_position_embeddings). */
  contextSize: number;
  /** config.json vocab_size, when given (tells the logits output from a hidden state). */
  vocabSize: number | undefined;
  /** Key/value heads and their width, for the empty past of the first step. */
  kvHeads: number | undefined;
  headDim: number | undefined;
  eosIds: number[];
  bosId: number | undefined;
}

const DEFAULT_CONTEXT = 1024;

function tokenIds(value: unknown): number[] {
  const list = Array.isArray(value) ? value : [value];
  return list.filter((id): id is number => typeof id === 'number' && Number.isInteger(id) && id >= 0);
}

/** Reads the fields generation needs from config.json (GPT-2 names first, then the Llama-style ones). */
export function parseCausalConfig(config: Record<string, unknown>): CausalConfig {
  const heads = firstPositiveInt(config, ['n_head', 'num_attention_heads', 'num_heads']);
  const kvHeads = firstPositiveInt(config, ['num_key_value_heads', 'n_head_kv', 'multi_query_group_num']) ?? heads;
  const hidden = firstPositiveInt(config, ['n_embd', 'hidden_size', 'd_model']);
  const headDim = firstPositiveInt(config, ['head_dim']) ?? (heads && hidden ? hidden / heads : undefined);
  const [bosId] = tokenIds(config['bos_token_id']);
  return {
    contextSize: firstPositiveInt(config, ['n_positions', 'n_ctx', 'max_position_embeddings']) ?? DEFAULT_CONTEXT,
    vocabSize: firstPositiveInt(config, ['vocab_size']),
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

export class CausalLm {
  /** The graph's cache layout; undefined when it takes no past. */
  private readonly cacheLayout: CacheLayout | undefined;
  private readonly inputs: TokenInputs;
  private readonly useCacheBranch: boolean;
  /** The output holding the logits: `logits`, or the first float [B, T, vocab] output. */
  readonly logitsName: string;

  constructor(
    private readonly session: ModelSession,
    private readonly config: CausalConfig,
    readonly modelId: string,
  ) {
    this.inputs = tokenInputs(session, modelId);
    this.useCacheBranch = this.inputs.others.includes(USE_CACHE_BRANCH);
    const logitsName = findLogitsOutput(session.outputInfo, config.vocabSize);
    if (!logitsName) throw noLogitsError(modelId, session.outputInfo, 'predict the next token', 'LM head (e.g. GPT2LMHeadModel)');
    this.logitsName = logitsName;
    for (const name of this.inputs.others) {
      if (!isPastInput(name) && name !== USE_CACHE_BRANCH) {
        throw modelCorrupt(`Model "${modelId}" needs an input "${name}" that a causal LM does not have.`);
      }
    }
    this.cacheLayout = cacheLayoutOf(this.inputs.others, session.outputNames, modelId);
    if (this.cacheLayout && (config.kvHeads === undefined || config.headDim === undefined)) {
      throw modelCorrupt(
        `Model "${modelId}" takes a key/value cache (${this.cacheLayout.pastInputs[0]}) but config.json does not give ` +
          'the head count and width (n_head and n_embd, or num_attention_heads and hidden_size).',
      );
    }
  }

  private get pastToPresent(): Map<string, string> {
    return this.cacheLayout?.presents ?? new Map();
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
    const feeds = tokenFeeds(this.inputs, { ids, batch: 1, length: t, pastLength }, this.modelId);
    if (this.useCacheBranch) feeds[USE_CACHE_BRANCH] = { type: 'bool', data: Uint8Array.of(cache ? 1 : 0), dims: [1] };
    for (const name of this.cacheLayout?.pastInputs ?? []) feeds[name] = cache?.get(name) ?? this.emptyPast();

    const wantCache = keepCache && this.canCache;
    const outputs = wantCache ? [this.logitsName, ...this.pastToPresent.values()] : [this.logitsName];
    const results = await this.session.run(feeds, outputs);
    const logits = results[this.logitsName];
    if (!logits || logits.type !== 'float32' || logits.dims.length !== 3 || logits.dims[1] !== t) {
      const got = logits ? `${logits.type} [${logits.dims.join(', ')}]` : 'nothing';
      throw modelCorrupt(`Model "${this.modelId}": "${this.logitsName}" must be float32 [1, ${t}, vocab]; got ${got}.`);
    }
    const vocab = logits.dims[2]!;
    let next: KvCache | undefined;
    if (wantCache) {
      next = new Map();
      for (const [past, present] of this.pastToPresent) {
        const tensor = results[present];
        if (!tensor || tensor.dims[this.cacheLayout!.sequenceAxis] !== pastLength + t) {
          throw modelCorrupt(`Model "${this.modelId}": "${present}" is missing or has the wrong length.`);
        }
        next.set(past, tensor);
      }
    }
    return { logits: logits.data, vocab, cache: next };
  }

  private pastLengthOf(cache: KvCache): number {
    const [any] = cache.values();
    return any?.dims[this.cacheLayout?.sequenceAxis ?? 2] ?? 0;
  }

  private emptyPast(): HostTensor {
    return { type: 'float32', data: new Float32Array(0), dims: this.cacheLayout!.emptyDims(this.config.kvHeads!, this.config.headDim!) };
  }
}

/** Row `row` of a [T, vocab] logits block. */
export function logitsRow(logits: Float32Array, vocab: number, row: number): Float32Array {
  return logits.subarray(row * vocab, (row + 1) * vocab);
}
