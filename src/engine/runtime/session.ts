import type { TensorInfo } from '../onnxSignature';

export type { TensorInfo };

/**
 * What model code sees of an inference session: plain typed arrays in, plain typed arrays out.
 * Only runtime/ort.ts implements it (with ONNX Runtime); model code (elmo.ts, ...) and tests use this type.
 */

export type HostTensor =
  | { type: 'float32'; data: Float32Array; dims: readonly number[] }
  | { type: 'int64'; data: BigInt64Array; dims: readonly number[] }
  | { type: 'int32'; data: Int32Array; dims: readonly number[] }
  | { type: 'bool'; data: Uint8Array; dims: readonly number[] };

export interface ModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** The declared element type and shape of each input / output, in the order of the names. */
  readonly inputInfo: readonly TensorInfo[];
  readonly outputInfo: readonly TensorInfo[];
  /** Runs the graph; `outputs` limits what is fetched (default: every output). */
  run(feeds: Record<string, HostTensor>, outputs?: readonly string[]): Promise<Record<string, HostTensor>>;
}

/** What a caller may ask of a session besides the graph as it is. */
export interface SessionOptions {
  /**
   * Also these outputs, rewriting the graph (once, cached) when it lacks them: `attentions` = the attention
   * probabilities (`attentions.{i}`, [batch, heads, query, key]; a stacked `attentions` output counts),
   * `hiddenStates` = each block's output (`hidden_states.{i}`, [batch, sequence, hidden]: HF's hidden_states[i + 1],
   * except the last block of a pre-LayerNorm model such as GPT-2, where HF's has ln_f applied and this has not;
   * a stacked `hidden_states` counts). BAD_INPUT with the reason when the graph cannot
   * give them (fused attention). See runtime/exposed.ts.
   */
  expose?: { attentions?: boolean; hiddenStates?: boolean };
  /**
   * A masked LM's logits output: a copy of the graph (rewritten once, cached) whose head runs at one position per row,
   * given by the extra input `lm_lens_head_positions` (int64 [batch]); the logits come back [batch, 1, vocab] and
   * are the only output. BAD_INPUT with the reason when the graph cannot be rewritten. See onnx/headGather.ts.
   */
  headGather?: string;
  /**
   * A causal LM that also returns each step's new keys / values (`lm_lens_new.<past>`; a copy rewritten once, cached),
   * so generation need not fetch the whole cache every token. The model's own graph when it cannot be rewritten.
   * See onnx/kvAppend.ts.
   */
  kvAppend?: boolean;
}
