/**
 * Finds where an unfused transformer export computes its attention probabilities:
 * Softmax(MatMul(q, kᵀ) [/ √d] [+ mask]), one per layer. Also spots fused attention operators,
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

export function findAttentionSoftmaxesIn(index: GraphIndex): AttentionSoftmax[] {
  interface Found {
    nodeIndex: number;
    matmulIndex: number;
    parsedLayer: number | undefined;
  }
  const found: Found[] = [];
  index.nodes.forEach((node, nodeIndex) => {
    if (node.op_type !== 'Softmax' || !isDefaultDomain(node.domain)) {
      return;
    }
    const axis = intAttribute(node, 'axis', -1);
    const input = node.input?.[0];
    if ((axis !== -1 && axis !== 3) || !input || !node.output?.[0]) {
      return;
    }
    const matmulIndex = findScoresMatMul(index, input);
    if (matmulIndex === undefined) {
      return;
    }
    const parsedLayer = layerIndexFromName(node.name) ?? layerIndexFromName(index.nodes[matmulIndex].name);
    found.push({ nodeIndex, matmulIndex, parsedLayer });
  });

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
    };
  });
}

/**
 * The attention Softmax nodes of an unfused export, ordered by layer (from node names such as
 * `/bert/encoder/layer.3/attention/self/Softmax` or `/transformer/h.3/attn/Softmax`, else by
 * topological order). Empty for fused attention (see findFusedAttention) and non-transformers.
 */
export function findAttentionSoftmaxes(model: ModelProto): AttentionSoftmax[] {
  return findAttentionSoftmaxesIn(new GraphIndex(model.graph ?? {}));
}
