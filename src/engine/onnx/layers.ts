/**
 * Finds each transformer block's output (the residual stream after block i) in an ONNX graph.
 *
 * With exporter names (`/bert/encoder/layer.3/...`, `/transformer/h.3/...`) the output of block i is
 * the last value made by a LayerNorm or Add of block i that is read outside block i (by the next
 * block, the final norm, a head) or is a graph output. Without names, it falls back to the graph's
 * shape: between attention Softmax i and i+1, the last LayerNorm/Add on the path to Softmax i+1 that
 * feeds a residual Add; the last block's output sits at the same place relative to its Softmax.
 */
import { AttentionSoftmax, findAttentionSoftmaxesIn } from './attention';
import { GraphIndex } from './graph';
import { DataType, ModelProto } from './proto';

export interface LayerOutput {
  /** Position in the list: the `i` of the exposed output `hidden_states.{i}`. */
  index: number;
  /** Block index read from the node names, or the rank when found from the graph's shape. */
  layer: number;
  /** The node producing the block output, and the value (shape [batch, sequence, hidden] in HF exports). */
  node: string;
  output: string;
  method: 'names' | 'topology';
}

/** Operators that end a transformer block: a residual Add or a layer norm (plain or fused). */
const BLOCK_END_OPS = new Set([
  'Add',
  'LayerNormalization',
  'SkipLayerNormalization',
  'SimplifiedLayerNormalization',
  'SkipSimplifiedLayerNormalization',
  'RMSNormalization',
]);

const FLOAT_TYPES = new Set<number>([DataType.FLOAT, DataType.FLOAT16, DataType.DOUBLE, DataType.BFLOAT16]);

/** Output of a block-ending node that carries activations (first output only: the normalized value). */
function blockValue(index: GraphIndex, nodeIndex: number): string | undefined {
  const node = index.nodes[nodeIndex];
  const value = node.output?.[0];
  if (!value || !BLOCK_END_OPS.has(node.op_type ?? '') || !index.live.has(value)) {
    return undefined;
  }
  return FLOAT_TYPES.has(index.elemTypeOf(value)) ? value : undefined;
}

function byNames(index: GraphIndex): LayerOutput[] {
  const layerOf = index.nodes.map((_, i) => index.layerOf(i));
  const layers = [...new Set(layerOf.filter((l): l is number => l !== undefined))].sort((a, b) => a - b);
  const outputs: LayerOutput[] = [];
  for (const layer of layers) {
    let best: { nodeIndex: number; value: string } | undefined;
    for (const nodeIndex of index.order) {
      if (layerOf[nodeIndex] !== layer) {
        continue;
      }
      const value = blockValue(index, nodeIndex);
      if (!value) {
        continue;
      }
      const leaves =
        index.graphOutputs.has(value) || (index.consumers.get(value) ?? []).some((c) => layerOf[c] !== layer);
      if (leaves) {
        best = { nodeIndex, value }; // `order` is topological: the last one wins
      }
    }
    if (best) {
      outputs.push({
        index: outputs.length,
        layer,
        node: index.nodes[best.nodeIndex].name ?? '',
        output: best.value,
        method: 'names',
      });
    }
  }
  return outputs;
}

/** Node indexes that are ancestors of `value`, among nodes placed after topological position `after`. */
function ancestorsAfter(index: GraphIndex, value: string, after: number): Set<number> {
  const result = new Set<number>();
  const stack = [value];
  const seen = new Set<string>();
  while (stack.length > 0) {
    const current = stack.pop() as string;
    if (seen.has(current)) {
      continue;
    }
    seen.add(current);
    const nodeIndex = index.producer.get(current);
    if (nodeIndex === undefined || index.position[nodeIndex] <= after) {
      continue;
    }
    result.add(nodeIndex);
    stack.push(...(index.nodes[nodeIndex].input ?? []).filter((name) => name));
  }
  return result;
}

function byTopology(index: GraphIndex, softmaxes: AttentionSoftmax[]): LayerOutput[] {
  const softmaxIndex = softmaxes.map((s) => index.producer.get(s.output) as number);
  const positions = softmaxIndex.map((i) => index.position[i]).sort((a, b) => a - b);
  if (positions.length < 2) {
    return [];
  }
  const blockEnds = index.order.filter((nodeIndex) => blockValue(index, nodeIndex) !== undefined);
  const outputs: LayerOutput[] = [];
  let rankInSegment = -1;
  for (let k = 0; k < positions.length; k++) {
    const start = positions[k];
    const inSegment = blockEnds.filter(
      (i) => index.position[i] > start && (k + 1 === positions.length || index.position[i] < positions[k + 1]),
    );
    let chosen: number | undefined;
    if (k + 1 < positions.length) {
      const nextSoftmax = index.order[positions[k + 1]];
      const ancestors = ancestorsAfter(index, index.nodes[nextSoftmax].input?.[0] ?? '', start);
      for (const nodeIndex of inSegment) {
        const value = blockValue(index, nodeIndex) as string;
        const feedsResidual = index.consumersOf(value).some((c) => c.op_type === 'Add' || c.op_type?.startsWith('Skip'));
        if (ancestors.has(nodeIndex) && feedsResidual) {
          chosen = nodeIndex;
        }
      }
      if (chosen !== undefined) {
        rankInSegment = inSegment.indexOf(chosen);
      }
    } else if (rankInSegment >= 0 && rankInSegment < inSegment.length) {
      // The last block has no next Softmax: take the same place relative to its own Softmax.
      chosen = inSegment[rankInSegment];
    }
    if (chosen === undefined) {
      break; // keep the list contiguous: hidden_states.{i} is always block i
    }
    outputs.push({
      index: outputs.length,
      layer: outputs.length,
      node: index.nodes[chosen].name ?? '',
      output: blockValue(index, chosen) as string,
      method: 'topology',
    });
  }
  return outputs;
}

export function findLayerOutputsIn(index: GraphIndex, softmaxes?: AttentionSoftmax[]): LayerOutput[] {
  const named = byNames(index);
  if (named.length > 0) {
    return named;
  }
  return byTopology(index, softmaxes ?? findAttentionSoftmaxesIn(index));
}

/**
 * Each transformer block's output value, ordered by block: from exporter node names, else from the
 * positions of the attention Softmax nodes. Empty when neither tells (e.g. one unnamed layer).
 */
export function findLayerOutputs(model: ModelProto): LayerOutput[] {
  return findLayerOutputsIn(new GraphIndex(model.graph ?? {}));
}
