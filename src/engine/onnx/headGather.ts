/**
 * Rewrites a masked LM so that its head runs at one position per row instead of every position.
 *
 * Pseudo-log-likelihood scoring (eval pairs) masks one token per row and reads the logits at that token only, but the
 * graph computes the head — a vocabulary-sized matmul — at every position: half of bert-mini's time (its 19k-word
 * head costs as much as its six blocks). The rewrite takes the last block's output [batch, sequence, hidden], keeps
 * the row's position with GatherElements (a new input `HEAD_POSITIONS_INPUT`, int64 [batch]) and feeds that
 * [batch, 1, hidden] to what followed; logits become [batch, 1, vocab]. Everything after the last block of a
 * BERT-style model (final norm, transform, decoder) works per position, so the numbers at the kept position do not
 * change; a graph where they would is caught by the caller, which compares the two once before trusting the copy.
 * Only the logits stay outputs, and nodes nothing needs any more are dropped (attention stacks, hidden states).
 */
import { makeInt64Tensor, makeNode, makeTensorValueInfo } from './build';
import { GraphIndex } from './graph';
import { findLayerOutputsIn } from './layers';
import { DataType, int64ToNumber, type ModelProto, type NodeProto } from './proto';

/** The rewritten model's extra input: for each row, the position whose logits are wanted (int64 [batch]). */
export const HEAD_POSITIONS_INPUT = 'lm_lens_head_positions';

/** What the rewrite did: the value it gathers from (the last block's output) and the node that makes it. */
export interface HeadGather {
  input: string;
  from: string;
  node: string;
}

const PREFIX = '/lm_lens_head_gather';

/** GatherElements needs opset 11. */
const MIN_OPSET = 11;

/**
 * Rewrites `model` in place so `logits` is computed at one position per row; returns what it did, or why it
 * cannot (a string: no such output, an old opset, control flow, no transformer block found) and leaves the
 * model as it was.
 */
export function gatherBeforeHead(model: ModelProto, logits: string): HeadGather | string {
  const graph = model.graph;
  if (!graph?.node?.length) return 'the ONNX model has no graph.';
  const opset = model.opset_import?.find((o) => !o.domain || o.domain === 'ai.onnx');
  if (!opset || int64ToNumber(opset.version) < MIN_OPSET) return `its opset is below ${MIN_OPSET} (GatherElements).`;
  if (graph.node.some((n) => n.op_type === 'If' || n.op_type === 'Loop' || n.op_type === 'Scan')) {
    return 'its graph has control flow (If / Loop / Scan).';
  }
  const index = new GraphIndex(graph);
  const output = graph.output?.find((o) => o.name === logits);
  if (!output) return `it has no output "${logits}".`;
  const last = findLayerOutputsIn(index).at(-1);
  if (!last) return 'no transformer block output was found in its graph.';

  const needed = neededBy(graph.node, logits);
  const readers = (index.consumers.get(last.output) ?? []).filter((i) => needed.has(graph.node![i]!));
  if (readers.length === 0) return `"${logits}" does not read the last block's output.`;

  const gathered = `${PREFIX}/gathered`;
  const added: NodeProto[] = [
    makeNode('Shape', [last.output], [`${PREFIX}/shape`], `${PREFIX}/Shape`),
    makeNode('Gather', [`${PREFIX}/shape`, `${PREFIX}/axis2`], [`${PREFIX}/hidden`], `${PREFIX}/Gather`, { axis: 0 }),
    makeNode('Concat', [`${PREFIX}/ones`, `${PREFIX}/hidden`], [`${PREFIX}/expand_to`], `${PREFIX}/Concat`, { axis: 0 }),
    makeNode('Reshape', [HEAD_POSITIONS_INPUT, `${PREFIX}/rows`], [`${PREFIX}/positions`], `${PREFIX}/Reshape`),
    makeNode('Expand', [`${PREFIX}/positions`, `${PREFIX}/expand_to`], [`${PREFIX}/indices`], `${PREFIX}/Expand`),
    makeNode('GatherElements', [last.output, `${PREFIX}/indices`], [gathered], `${PREFIX}/GatherElements`, { axis: 1 }),
  ];
  for (const i of readers) {
    const node = graph.node[i]!;
    node.input = (node.input ?? []).map((name) => (name === last.output ? gathered : name));
  }
  // the new nodes right after the block output's producer: the node list stays topologically sorted
  const at = index.producer.get(last.output);
  const nodes = [...graph.node];
  nodes.splice(at === undefined ? 0 : at + 1, 0, ...added);

  const keep = neededBy(nodes, logits);
  graph.node = nodes.filter((n) => keep.has(n));
  const used = new Set(graph.node.flatMap((n) => n.input ?? []));
  graph.initializer = [
    ...(graph.initializer ?? []).filter((t) => t.name && used.has(t.name)),
    makeInt64Tensor(`${PREFIX}/axis2`, [1], [2]),
    makeInt64Tensor(`${PREFIX}/ones`, [2], [1, 1]),
    makeInt64Tensor(`${PREFIX}/rows`, [3], [-1, 1, 1]),
  ];
  graph.input = [
    ...(graph.input ?? []).filter((i) => i.name && used.has(i.name)),
    makeTensorValueInfo(HEAD_POSITIONS_INPUT, DataType.INT64, ['batch']),
  ];
  const vocab = output.type?.tensor_type?.shape?.dim?.[2];
  graph.output = [makeTensorValueInfo(logits, output.type?.tensor_type?.elem_type ?? DataType.FLOAT, [
    'batch',
    1,
    vocab?.dim_value !== undefined && vocab.dim_value !== null ? int64ToNumber(vocab.dim_value) : 'vocab',
  ])];
  // declared shapes after the gather say "sequence" where there is now 1: drop them all (they are optional)
  graph.value_info = [];
  return { input: HEAD_POSITIONS_INPUT, from: last.output, node: last.node };
}

/** The nodes `output` is computed from (by name: the list may not be indexed yet). */
function neededBy(nodes: readonly NodeProto[], output: string): Set<NodeProto> {
  const producer = new Map<string, NodeProto>();
  for (const node of nodes) for (const out of node.output ?? []) if (out) producer.set(out, node);
  const needed = new Set<NodeProto>();
  const stack = [output];
  while (stack.length > 0) {
    const node = producer.get(stack.pop()!);
    if (!node || needed.has(node)) continue;
    needed.add(node);
    for (const input of node.input ?? []) if (input) stack.push(input);
  }
  return needed;
}
