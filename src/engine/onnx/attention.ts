/**
 * Finds where an unfused transformer export computes its attention probabilities:
 * Softmax(MatMul(q, kᵀ) [/ √d] [+ mask]), one per layer, over [batch, heads, T, S] (Hugging Face exports) or
 * [batch·heads, T, S] (torch nn.MultiheadAttention, bmm-style exports). Also spots fused attention operators,
 * whose probabilities never exist as a tensor and so cannot be exposed.
 */
import { GraphIndex, intAttribute, layerIndexFromName } from './graph';
import { ModelProto } from './proto';

export interface AttentionSoftmax {
  /** Position in the list: the `i` of the exposed output `attentions.{i}`. */
  index: number;
  /** Block index read from the node names, or the topological rank when the names don't tell. */
  layer: number;
  /** The Softmax node's name and its output (shape [batch, heads, query, key] in HF exports). */
  node: string;
  output: string;
  /** Name of the MatMul node that computes the scores q·kᵀ. */
  scores: string;
  /** True when the key side of that MatMul goes through a Transpose (kᵀ), as expected. */
  keyTransposed: boolean;
  /**
   * 4: probabilities [batch, heads, query, key] (Hugging Face exports); 3: [batch·heads, query, key] (torch
   * nn.MultiheadAttention and other bmm-style exports), which the rewrite reshapes to [batch, heads, query, key].
   */
  rank: 3 | 4;
}

/** A Softmax fed by a query×key MatMul whose input shape or axis is not attention's (for the explanation). */
export interface OtherShapeSoftmax {
  node: string;
  axis: number;
  /** Rank of the Softmax input, when the graph tells. */
  rank: number | undefined;
}

export interface FusedAttentionNode {
  name: string;
  opType: string;
  domain: string;
}

/** Attention kernels of ONNX Runtime's com.microsoft domain (and ONNX's own Attention, opset 23). */
const FUSED_ATTENTION_OPS = new Set([
  'Attention',
  'MultiHeadAttention',
  'GroupQueryAttention',
  'PackedAttention',
  'PackedMultiHeadAttention',
  'DecoderAttention',
  'DecoderMaskedMultiHeadAttention',
  'DecoderMaskedSelfAttention',
  'QAttention',
  'QOrderedAttention',
  'LongformerAttention',
  'SparseAttention',
  'PagedAttention',
]);

const MATMUL_OPS = new Set(['MatMul', 'FusedMatMul']);

/** What may sit between the scores MatMul and the Softmax: scaling, masking, casts, reshapes. */
const SCORE_PASS_THROUGH = new Set(['Add', 'Sub', 'Div', 'Mul', 'Where', 'Cast', 'Reshape', 'Identity', 'Max', 'Min', 'Clip', 'Expand']);

/** What may sit between kᵀ and the MatMul: scaling (SDPA exports scale q and k), casts, reshapes. */
const KEY_PASS_THROUGH = new Set(['Mul', 'Div', 'Cast', 'Reshape', 'Identity']);

const SCORE_SEARCH_LIMIT = 24;
const KEY_SEARCH_LIMIT = 6;

function isDefaultDomain(domain: string | undefined): boolean {
  return !domain || domain === 'ai.onnx';
}

export function findFusedAttentionIn(index: GraphIndex): FusedAttentionNode[] {
  const found: FusedAttentionNode[] = [];
  for (const node of index.nodes) {
    const domain = node.domain ?? '';
    if (FUSED_ATTENTION_OPS.has(node.op_type ?? '') && (domain === 'com.microsoft' || isDefaultDomain(domain))) {
      found.push({ name: node.name ?? '', opType: node.op_type ?? '', domain: domain || 'ai.onnx' });
    }
  }
  return found;
}

/** Fused attention nodes (com.microsoft Attention, MultiHeadAttention, GroupQueryAttention, ...). */
export function findFusedAttention(model: ModelProto): FusedAttentionNode[] {
  return findFusedAttentionIn(new GraphIndex(model.graph ?? {}));
}

/** Nearest MatMul of two activations above the Softmax input, through scaling and masking only. */
function findScoresMatMul(index: GraphIndex, start: string): number | undefined {
  const queue = [start];
  const seen = new Set<string>();
  for (let head = 0; head < queue.length && seen.size < SCORE_SEARCH_LIMIT; head++) {
    const value = queue[head];
    if (seen.has(value) || !index.live.has(value)) {
      continue;
    }
    seen.add(value);
    const nodeIndex = index.producer.get(value);
    if (nodeIndex === undefined) {
      continue;
    }
    const node = index.nodes[nodeIndex];
    const op = node.op_type ?? '';
    if (MATMUL_OPS.has(op)) {
      const [a, b] = node.input ?? [];
      if (a && b && index.live.has(a) && index.live.has(b)) {
        return nodeIndex;
      }
      continue; // a MatMul with a weight: a projection, not attention scores
    }
    if (SCORE_PASS_THROUGH.has(op)) {
      // Where(condition, x, y): the condition is the boolean mask, not the scores.
      const inputs = op === 'Where' ? (node.input ?? []).slice(1) : (node.input ?? []);
      queue.push(...inputs.filter((name) => name));
    }
  }
  return undefined;
}

function keyIsTransposed(index: GraphIndex, matmulIndex: number): boolean {
  const matmul = index.nodes[matmulIndex];
  if (matmul.op_type === 'FusedMatMul' && intAttribute(matmul, 'transB', 0) === 1) {
    return true;
  }
  let value = matmul.input?.[1];
  for (let step = 0; value && step < KEY_SEARCH_LIMIT; step++) {
    const node = index.producerOf(value);
    if (!node) {
      return false;
    }
    if (node.op_type === 'Transpose') {
      return true;
    }
    if (!KEY_PASS_THROUGH.has(node.op_type ?? '')) {
      return false;
    }
    // Mul/Div: follow the activation side.
    value = (node.input ?? []).find((name) => name && index.live.has(name));
  }
  return false;
}

/**
 * The rank of attention scores a Softmax reads, when its axis is their key axis: 4 ([batch, heads, T, S], axis
 * -1 or 3) or 3 ([batch·heads, T, S], axis -1 or 2). Undefined for any other shape or axis. When the graph does
 * not tell the rank, axis 2 means rank 3 and axis -1 or 3 rank 4 (as Hugging Face exports have it).
 */
function attentionRank(axis: number, rank: number | undefined): 3 | 4 | undefined {
  if (rank === undefined) return axis === 2 ? 3 : axis === -1 || axis === 3 ? 4 : undefined;
  if (rank === 4 && (axis === -1 || axis === 3)) return 4;
  if (rank === 3 && (axis === -1 || axis === 2)) return 3;
  return undefined;
}

/** The rank of the Softmax input, else of the query×key product (a mask added to it may hide the rank). */
function scoresRank(index: GraphIndex, input: string, matmulIndex: number): number | undefined {
  const product = index.nodes[matmulIndex].output?.[0];
  return index.rankOf(input) ?? (product ? index.rankOf(product) : undefined);
}

function softmaxesOf(index: GraphIndex): { nodeIndex: number; input: string; axis: number }[] {
  const found: { nodeIndex: number; input: string; axis: number }[] = [];
  index.nodes.forEach((node, nodeIndex) => {
    const input = node.input?.[0];
    if (node.op_type === 'Softmax' && isDefaultDomain(node.domain) && input && node.output?.[0]) {
      found.push({ nodeIndex, input, axis: intAttribute(node, 'axis', -1) });
    }
  });
  return found;
}

export function findAttentionSoftmaxesIn(index: GraphIndex): AttentionSoftmax[] {
  interface Found {
    nodeIndex: number;
    matmulIndex: number;
    parsedLayer: number | undefined;
    rank: 3 | 4;
  }
  const found: Found[] = [];
  for (const { nodeIndex, input, axis } of softmaxesOf(index)) {
    const matmulIndex = findScoresMatMul(index, input);
    if (matmulIndex === undefined) continue;
    const rank = attentionRank(axis, scoresRank(index, input, matmulIndex));
    if (rank === undefined) continue;
    const parsedLayer = layerIndexFromName(index.nodes[nodeIndex].name) ?? layerIndexFromName(index.nodes[matmulIndex].name);
    found.push({ nodeIndex, matmulIndex, parsedLayer, rank });
  }

  const layers = found.map((f) => f.parsedLayer);
  const namesTell = layers.every((l) => l !== undefined) && new Set(layers).size === layers.length;
  found.sort((a, b) =>
    namesTell
      ? (a.parsedLayer as number) - (b.parsedLayer as number)
      : index.position[a.nodeIndex] - index.position[b.nodeIndex],
  );
  return found.map((f, i) => {
    const node = index.nodes[f.nodeIndex];
    return {
      index: i,
      layer: namesTell ? (f.parsedLayer as number) : i,
      node: node.name ?? '',
      output: node.output?.[0] ?? '',
      scores: index.nodes[f.matmulIndex].name ?? '',
      keyTransposed: keyIsTransposed(index, f.matmulIndex),
      rank: f.rank,
    };
  });
}

/**
 * Softmax nodes fed by a MatMul of two activations that are not read as attention because of their shape or
 * axis (e.g. a Softmax over the query axis, or of a rank-5 tensor): what the "no attention" message names.
 */
export function findOtherShapeSoftmaxesIn(index: GraphIndex): OtherShapeSoftmax[] {
  const found: OtherShapeSoftmax[] = [];
  for (const { nodeIndex, input, axis } of softmaxesOf(index)) {
    const matmulIndex = findScoresMatMul(index, input);
    if (matmulIndex === undefined) continue;
    const rank = scoresRank(index, input, matmulIndex);
    if (attentionRank(axis, rank) !== undefined) continue;
    found.push({ node: index.nodes[nodeIndex].name ?? '', axis, rank });
  }
  return found;
}

/**
 * The attention Softmax nodes of an unfused export, ordered by layer (from node names such as
 * `/bert/encoder/layer.3/attention/self/Softmax` or `/transformer/h.3/attn/Softmax`, else by
 * topological order). Empty for fused attention (see findFusedAttention) and non-transformers.
 */
export function findAttentionSoftmaxes(model: ModelProto): AttentionSoftmax[] {
  return findAttentionSoftmaxesIn(new GraphIndex(model.graph ?? {}));
}
