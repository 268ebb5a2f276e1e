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
import { modelCorrupt } from '../errors';
import { firstPositiveInt } from './configNumbers';
import { findLogitsOutput, noLogitsError, tokenFeeds, tokenInputs, type TokenInputs } from './io';
import { cacheLayoutOf, isPastInput, newKvOutput, type CacheLayout } from './kvCache';
import { parseLineBreaks, type LineBreaks } from './lmText';
import type { HostTensor, ModelSession } from '../runtime/session';

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
  /** How the model reads line breaks (see lmText.ts): config.json lm_lens.line_breaks, 'keep' when absent. */
  lineBreaks: LineBreaks;
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
  const eosIds = tokenIds(config['eos_token_id']);
  const lineBreaks = parseLineBreaks(config);
  if (lineBreaks === 'paragraphs' && eosIds.length === 0) {
    throw modelCorrupt('config.json: lm_lens.line_breaks "paragraphs" needs an end-of-text token (eos_token_id) to end a paragraph with.');
  }
  return {
    contextSize: firstPositiveInt(config, ['n_positions', 'n_ctx', 'max_position_embeddings']) ?? DEFAULT_CONTEXT,
    vocabSize: firstPositiveInt(config, ['vocab_size']),
    kvHeads,
    headDim: headDim !== undefined && Number.isInteger(headDim) ? headDim : undefined,
    eosIds,
    bosId,
    lineBreaks,
  };
}

/** The key/value cache: one tensor per past input name. */
export type KvCache = Map<string, HostTensor>;

/**
 * Where a generation keeps its key/value cache when the graph returns only each step's new keys and values
 * (`newKvOutput`): two buffers per past input, written in turn, grown by doubling. ONNX Runtime hands every output
 * back in a new ArrayBuffer; a present of the whole past per layer each step (1.2 MB a token for gpt2-mini at 100
 * tokens, 24 x 300 KB for GPT-2 small) made V8 run a full mark-compact every ~30 tokens in the engine worker. Here the
 * outputs are one position wide and the past is copied into a buffer that already exists.
 * The cache a step returns is valid until the step after next with the same arena.
 */
export class KvArena {
  private readonly buffers = new Map<string, [Float32Array, Float32Array]>();
  private turn = 0;

  /** A [..., length, ...] view for `past` in this step's buffer, growing it when it is too small. */
  view(past: string, elements: number): Float32Array {
    let pair = this.buffers.get(past);
    if (!pair || pair[this.turn]!.length < elements) {
      const capacity = Math.max(elements, 2 * (pair?.[this.turn]?.length ?? 0), 4096);
      pair = pair ?? [new Float32Array(0), new Float32Array(0)];
      pair[this.turn] = new Float32Array(capacity);
      this.buffers.set(past, pair);
    }
    return pair[this.turn]!.subarray(0, elements);
  }

  /** The next step writes the other buffer of each pair. */
  flip(): void {
    this.turn = 1 - this.turn;
  }
}

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
  /** True when the graph also returns each step's new keys / values alone (exported so, as gpt2-mini, or a rewritten copy: onnx/kvAppend.ts). */
  readonly appends: boolean;
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
    const outputs = new Set(session.outputNames);
    this.appends = this.canCache && this.cacheLayout!.pastInputs.every((p) => outputs.has(newKvOutput(p)));
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
   * empty past). `keepCache` asks for the present tensors (ignored when the graph cannot cache); with an `arena`
   * and a graph that `appends`, the cache returned is joined there from the step's new keys / values instead.
   */
  async step(ids: readonly number[], cache: KvCache | undefined, keepCache: boolean, arena?: KvArena): Promise<StepResult> {
    const pastLength = cache ? this.pastLengthOf(cache) : 0;
    const t = ids.length;
    const feeds = tokenFeeds(this.inputs, { ids, batch: 1, length: t, pastLength }, this.modelId);
    if (this.useCacheBranch) feeds[USE_CACHE_BRANCH] = { type: 'bool', data: Uint8Array.of(cache ? 1 : 0), dims: [1] };
    for (const name of this.cacheLayout?.pastInputs ?? []) feeds[name] = cache?.get(name) ?? this.emptyPast();

    const wantCache = keepCache && this.canCache;
    const append = wantCache && arena !== undefined && this.appends;
    const outputs = !wantCache
      ? [this.logitsName]
      : append
        ? [this.logitsName, ...this.cacheLayout!.pastInputs.map(newKvOutput)]
        : [this.logitsName, ...this.pastToPresent.values()];
    const results = await this.session.run(feeds, outputs);
    const logits = results[this.logitsName];
    if (!logits || logits.type !== 'float32' || logits.dims.length !== 3 || logits.dims[1] !== t) {
      const got = logits ? `${logits.type} [${logits.dims.join(', ')}]` : 'nothing';
      throw modelCorrupt(`Model "${this.modelId}": "${this.logitsName}" must be float32 [1, ${t}, vocab]; got ${got}.`);
    }
    const vocab = logits.dims[2]!;
    let next: KvCache | undefined;
    if (append) {
      next = this.appendCache(cache, results, pastLength, t, arena!);
    } else if (wantCache) {
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

  /** The past and this step's new keys / values, joined along the sequence axis in the arena's next buffers. */
  private appendCache(cache: KvCache | undefined, results: Record<string, HostTensor>, pastLength: number, t: number, arena: KvArena): KvCache {
    const axis = this.cacheLayout!.sequenceAxis;
    const next: KvCache = new Map();
    arena.flip();
    for (const past of this.cacheLayout!.pastInputs) {
      const added = results[newKvOutput(past)];
      if (!added || added.type !== 'float32' || added.dims[axis] !== t) {
        throw modelCorrupt(`Model "${this.modelId}": "${newKvOutput(past)}" is missing or has the wrong length.`);
      }
      const rows = added.dims.slice(0, axis).reduce((a, b) => a * b, 1); // batch x heads (x 2 when stacked)
      const width = added.dims.slice(axis + 1).reduce((a, b) => a * b, 1); // head_dim
      const total = pastLength + t;
      const data = arena.view(past, rows * total * width);
      const old = cache?.get(past)?.data as Float32Array | undefined;
      for (let r = 0; r < rows; r++) {
        if (old && pastLength > 0) data.set(old.subarray(r * pastLength * width, (r + 1) * pastLength * width), r * total * width);
        data.set(added.data.subarray(r * t * width, (r + 1) * t * width) as Float32Array, (r * total + pastLength) * width);
      }
      const dims = [...added.dims];
      dims[axis] = total;
      next.set(past, { type: 'float32', data, dims });
    }
    return next;
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
