/**
 * Rewrites a causal LM with a key/value cache so that it also returns each step's new keys and values alone.
 *
 * A decoder's `present.{i}.key` is `Concat(past_key_values.{i}.key, this step's keys)` along the sequence axis, and
 * ONNX Runtime hands every fetched output back in a new ArrayBuffer: fetching the presents copies the whole past out
 * of the graph at every token. In the engine worker those buffers (1.2 MB a token for gpt2-mini at 100 tokens) made
 * V8 run a full mark-compact every ~30 tokens. The rewrite adds `newKvOutput(past)` = the Concat's second input, an
 * Identity output one position wide per step; the caller (causalLm.ts, KvArena) joins it to the past in buffers
 * it keeps. Nothing else changes: the presents are still computed (attention reads them) and still outputs.
 * Merged decoders (an If per step kind) and caches built otherwise than by one Concat are left as they are.
 */
import { cacheLayoutOf, newKvOutput } from '../models/kvCache';
import { makeNode, makeTensorValueInfo } from './build';
import { GraphIndex, intAttribute } from './graph';
import { DataType, type ModelProto, type NodeProto } from './proto';

/** What the rewrite added: past input -> the output with this step's part of it. */
export interface KvAppend {
  outputs: Record<string, string>;
}

const PREFIX = '/lm_lens_kv_append';

/**
 * Adds the new-keys/values outputs to `model` in place; returns what it added, or why it cannot (a string) and
 * leaves the model as it was.
 */
export function exposeNewKv(model: ModelProto): KvAppend | string {
  const graph = model.graph;
  if (!graph?.node?.length) return 'the ONNX model has no graph.';
  if (graph.node.some((n) => n.op_type === 'If' || n.op_type === 'Loop' || n.op_type === 'Scan')) {
    return 'its graph has control flow (If / Loop / Scan).';
  }
  const inputs = (graph.input ?? []).map((i) => i.name ?? '');
  const layout = cacheLayoutOf(inputs, (graph.output ?? []).map((o) => o.name ?? ''), 'model');
  if (!layout) return 'it takes no key/value cache.';
  if (layout.presents.size === 0) return 'it does not return a present for every past.';
  const rank = layout.name === 'past_key_values' ? 4 : 5;
  const index = new GraphIndex(graph);
  const sources: [string, string][] = [];
  for (const [past, present] of layout.presents) {
    const at = index.producer.get(present);
    const node = at === undefined ? undefined : graph.node[at];
    if (!node || node.op_type !== 'Concat' || node.input?.length !== 2 || node.input[0] !== past) {
      return `"${present}" is not a Concat of "${past}" and this step's part.`;
    }
    const axis = intAttribute(node, 'axis', 0);
    if ((axis + rank) % rank !== layout.sequenceAxis) return `"${present}" joins along axis ${axis}, not the sequence.`;
    sources.push([past, node.input[1]!]);
  }
  const elemType = new Map((graph.input ?? []).map((i) => [i.name, i.type?.tensor_type?.elem_type ?? DataType.FLOAT]));
  const added: NodeProto[] = [];
  const outputs: Record<string, string> = {};
  for (const [past, source] of sources) {
    const name = newKvOutput(past);
    if (index.producer.has(name) || index.graphOutputs.has(name)) return `it already has a value named "${name}".`;
    added.push(makeNode('Identity', [source], [name], `${PREFIX}/${past}`));
    outputs[past] = name;
  }
  graph.node = [...graph.node, ...added];
  graph.output = [
    ...(graph.output ?? []),
    ...sources.map(([past]) => makeTensorValueInfo(outputs[past]!, elemType.get(past) ?? DataType.FLOAT)),
  ];
  return { outputs };
}
