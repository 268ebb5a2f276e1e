/**
 * Attention weights as one flat Float32Array laid out [layer][head][query][key], and the pure helpers that read
 * and write it: collecting a model's attention outputs (one stacked `attentions` tensor, or one
 * `attentions.{i}` per layer as the ONNX rewriter exposes them), slicing one head, nesting for JSON.
 * No ONNX Runtime, no Node, no vscode: used by the worker, the extension host and tests.
 */
import type { ModelInfo, ModelKind } from '../../api';
import { modelCorrupt } from '../../errors';
import type { HostTensor } from '../../runtime/session';

/** The stacked output of our exports: float32 [layers, batch, heads, query, key]. */
export const STACKED_ATTENTIONS = 'attentions';
/** Per-layer outputs (downloaded exports, rewritten): float32 [batch, heads, query, key] each. */
const PER_LAYER_ATTENTIONS = /^attentions\.(\d+)$/;

export interface AttentionShape {
  layers: number;
  heads: number;
  /** Tokens: every matrix is tokens x tokens. */
  tokens: number;
}

/**
 * The output names that hold attention weights, in layer order: `['attentions']`, or `attentions.0`,
 * `attentions.1`, ... (sorted by number). Empty when the model exposes none.
 */
export function attentionOutputNames(outputNames: readonly string[]): string[] {
  if (outputNames.includes(STACKED_ATTENTIONS)) return [STACKED_ATTENTIONS];
  return outputNames
    .map((name) => ({ name, match: PER_LAYER_ATTENTIONS.exec(name) }))
    .filter((o): o is { name: string; match: RegExpExecArray } => o.match !== null)
    .sort((a, b) => Number(a.match[1]) - Number(b.match[1]))
    .map((o) => o.name);
}

/** Model kinds `attention` runs, the default's kind first (an `encoder` is a BERT without its masked-LM head). */
export const ATTENTION_KINDS: readonly ModelKind[] = ['masked-lm', 'causal-lm', 'encoder'];

/**
 * The models `attention` can run: BERT- or GPT-2-style. Those without attention outputs (plain HF exports) get
 * them by an ONNX rewrite in the worker, or a clear error when their attention is fused.
 */
export function canShowAttention(model: ModelInfo): boolean {
  return ATTENTION_KINDS.includes(model.kind);
}

function describe(tensor: HostTensor | undefined): string {
  return tensor ? `${tensor.type} [${tensor.dims.join(', ')}]` : 'nothing';
}

/**
 * Copies batch item 0 of the attention outputs into one [layer][head][query][key] array for `tokens` tokens.
 * When keys outnumber queries (a graph that also attends to a past), the last `tokens` keys are kept.
 */
export function collectAttentions(
  outputs: Readonly<Record<string, HostTensor>>,
  names: readonly string[],
  tokens: number,
): { shape: AttentionShape; data: Float32Array } {
  const blocks: { data: Float32Array; heads: number; keys: number; layerStride: number; layers: number }[] = [];
  if (names.length === 1 && names[0] === STACKED_ATTENTIONS) {
    const t = outputs[STACKED_ATTENTIONS];
    if (!t || t.type !== 'float32' || t.dims.length !== 5 || t.dims[3] !== tokens || t.dims[4]! < tokens) {
      throw modelCorrupt(
        `"${STACKED_ATTENTIONS}" must be float32 [layers, batch, heads, ${tokens}, keys]; got ${describe(t)}.`,
      );
    }
    const [layers, batch, heads, , keys] = t.dims as [number, number, number, number, number];
    // one layer's block spans every batch item; item 0 comes first
    blocks.push({ data: t.data, heads, keys, layerStride: batch * heads * tokens * keys, layers });
  } else {
    for (const name of names) {
      const t = outputs[name];
      if (!t || t.type !== 'float32' || t.dims.length !== 4 || t.dims[2] !== tokens || t.dims[3]! < tokens) {
        throw modelCorrupt(`"${name}" must be float32 [batch, heads, ${tokens}, keys]; got ${describe(t)}.`);
      }
      const [, heads, , keys] = t.dims as [number, number, number, number];
      blocks.push({ data: t.data, heads, keys, layerStride: 0, layers: 1 });
    }
  }
  const heads = blocks[0]?.heads ?? 0;
  if (heads === 0 || blocks.some((b) => b.heads !== heads)) {
    throw modelCorrupt(`The attention outputs disagree on the number of heads (${blocks.map((b) => b.heads).join(', ')}).`);
  }
  const layers = blocks.reduce((n, b) => n + b.layers, 0);
  const matrix = tokens * tokens;
  const data = new Float32Array(layers * heads * matrix);
  let layer = 0;
  for (const block of blocks) {
    const skip = block.keys - tokens; // keys of a past, if any, come first
    for (let l = 0; l < block.layers; l++, layer++) {
      for (let h = 0; h < heads; h++) {
        for (let q = 0; q < tokens; q++) {
          const from = l * block.layerStride + (h * tokens + q) * block.keys + skip;
          data.set(block.data.subarray(from, from + tokens), ((layer * heads + h) * tokens + q) * tokens);
        }
      }
    }
  }
  return { shape: { layers, heads, tokens }, data };
}

/** Offset of head (layer, head)'s matrix in the flat array. */
export function headOffset(shape: AttentionShape, layer: number, head: number): number {
  return (layer * shape.heads + head) * shape.tokens * shape.tokens;
}

/** One head's tokens x tokens matrix (a view, not a copy). */
export function headMatrix(data: Float32Array, shape: AttentionShape, layer: number, head: number): Float32Array {
  const from = headOffset(shape, layer, head);
  return data.subarray(from, from + shape.tokens * shape.tokens);
}

/** The flat array as nested arrays [layer][head][query][key] (for JSON). */
export function nestAttentions(data: Float32Array, shape: AttentionShape): number[][][][] {
  const { layers, heads, tokens } = shape;
  return Array.from({ length: layers }, (_, l) =>
    Array.from({ length: heads }, (_, h) => {
      const m = headMatrix(data, shape, l, h);
      return Array.from({ length: tokens }, (_, q) => Array.from(m.subarray(q * tokens, (q + 1) * tokens)));
    }),
  );
}
