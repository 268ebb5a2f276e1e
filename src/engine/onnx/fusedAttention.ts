/**
 * Decomposes ONNX Runtime's fused `com.microsoft.Attention` (what onnxruntime.transformers' optimizer makes of a
 * BERT's self-attention) into standard operators, so the attention probabilities exist as a tensor that the
 * rewrite can expose. The operator's documented computation (ORT's ContribOperators.md), written out:
 *
 *   qkv = input · weights [+ bias]                     [B, S, 3·hidden] (packed Q, K, V)
 *   q, k, v = heads of each third                      [B, H, S, d]
 *   probs = Softmax(q · kᵀ · scale + mask)             scale = 1/√d unless the attribute says otherwise
 *   output = merge heads(probs · v)                    [B, S, hidden]
 *
 * mask_index may be absent, a raw mask [B, total] or [B, S, total] (1 keep, 0 masked), or 1-D: [B] exclusive end
 * positions (right padding) or [2·B] ends then inclusive starts (left padding); masked scores get
 * mask_filter_value (default -10000) added. What it cannot write out (a past/present cache, an attention bias,
 * unidirectional masking, rotary embeddings, Q/K/V of different widths, the 4-D or 3·B+2 mask formats, float16)
 * is refused with the attribute or input named, and the model is then left as it is.
 */
import { makeFloatTensor, makeInt64Tensor, makeNode } from './build';
import { GraphIndex, intAttribute, intsAttribute, layerIndexFromName } from './graph';
import { DataType, ModelProto, NodeProto, int64ToNumber } from './proto';

export interface AttentionDecomposition {
  /** Names of the fused nodes written out. */
  decomposed: string[];
  /** Why a fused node could not be written out (then none is). */
  refused: { node: string; reason: string }[];
}

function isFusedAttention(node: NodeProto): boolean {
  return node.op_type === 'Attention' && node.domain === 'com.microsoft';
}

function floatAttribute(node: NodeProto, name: string): number | undefined {
  const attr = node.attribute?.find((a) => a.name === name);
  return attr && attr.f !== undefined && attr.f !== null ? attr.f : undefined;
}

function defaultOpset(model: ModelProto): number {
  const entry = model.opset_import?.find((o) => !o.domain || o.domain === 'ai.onnx');
  return entry ? int64ToNumber(entry.version) : 1;
}

interface Plan {
  node: NodeProto;
  heads: number;
  headSize: number;
  scale: number;
  filter: number;
  maskRank: number | undefined;
}

/** What stops one node from being written out, or its plan. */
function planFor(index: GraphIndex, node: NodeProto, opset: number): Plan | string {
  const inputs = node.input ?? [];
  const present = (i: number): boolean => Boolean(inputs[i]);
  const heads = intAttribute(node, 'num_heads', 0);
  if (heads <= 0) return 'it has no num_heads attribute';
  if (intAttribute(node, 'unidirectional', 0) !== 0) return 'unidirectional=1 (causal masking inside the operator)';
  if (intAttribute(node, 'do_rotary', 0) !== 0) return 'do_rotary=1 (rotary position embeddings inside the operator)';
  if (intAttribute(node, 'past_present_share_buffer', 0) !== 0) return 'past_present_share_buffer=1';
  if (present(4) || (node.output ?? [])[1]) return 'a past/present key-value cache (input "past", output "present")';
  if (present(5)) return 'an attention bias (input 5, relative_position_bias / attention_bias)';
  if (present(6)) return 'a past_sequence_length input';
  const sizes = intsAttribute(node, 'qkv_hidden_sizes');
  if (sizes && new Set(sizes).size > 1) return `qkv_hidden_sizes=[${sizes.join(', ')}] (Q, K and V of different widths)`;
  if (!present(0) || !present(1)) return 'its input or weights are missing';
  if (index.elemTypeOf(inputs[0]!) !== DataType.FLOAT) return 'a float16 or bfloat16 input (only float32 is written out)';
  const weightDims = index.initializerDims.get(inputs[1]!) ??
    index.valueInfo.get(inputs[1]!)?.type?.tensor_type?.shape?.dim?.map((d) => (d.dim_value ? int64ToNumber(d.dim_value) : 0));
  const packed = weightDims?.[1] ?? 0;
  const hidden = sizes?.[0] ?? packed / 3;
  if (!Number.isInteger(hidden) || hidden <= 0 || hidden % heads !== 0) return 'weights whose width is not known from the graph';
  let maskRank: number | undefined;
  if (present(3)) {
    maskRank = index.rankOf(inputs[3]!);
    if (maskRank === undefined) return 'a mask_index whose rank is not known from the graph';
    if (maskRank === 4) return 'a 4-D mask_index (batch, 1, max_sequence_length, max_sequence_length)';
    if (maskRank < 1 || maskRank > 4) return `a mask_index of rank ${maskRank}`;
    if (maskRank === 1 && opset < 11) return `a 1-D mask_index in opset ${opset} (Range needs opset 11)`;
  }
  const headSize = hidden / heads;
  return {
    node,
    heads,
    headSize,
    scale: floatAttribute(node, 'scale') ?? 1 / Math.sqrt(headSize),
    filter: floatAttribute(node, 'mask_filter_value') ?? -10000,
    maskRank,
  };
}

/** The standard nodes that compute what `plan.node` computes; its output keeps its name. */
function writeOut(plan: Plan, layer: number): NodeProto[] {
  const { node, heads } = plan;
  const [input, weights, bias, maskIndex] = (node.input ?? []) as string[];
  const prefix = `/lm_lens/layer.${layer}/attention/`;
  const nodes: NodeProto[] = [];
  const value = (step: string): string => `${prefix}${step}`;
  const add = (op: string, inputs: string[], step: string, attrs: Parameters<typeof makeNode>[4] = {}): string => {
    nodes.push(makeNode(op, inputs, [value(step)], value(step), attrs));
    return value(step);
  };
  const ints = (step: string, values: number[], scalar = false): string =>
    add('Constant', [], step, { value: makeInt64Tensor(value(step), scalar ? [] : [values.length], values) });
  const float = (step: string, v: number): string => add('Constant', [], step, { value: makeFloatTensor(value(step), [], [v]) });

  let qkv = add('MatMul', [input!, weights!], 'MatMul');
  if (bias) qkv = add('Add', [qkv, bias], 'Add_bias');
  const split = add('Reshape', [qkv, ints('qkv_shape', [0, 0, 3, heads, -1])], 'Reshape');
  const stacked = add('Transpose', [split], 'Transpose', { perm: [2, 0, 3, 1, 4] }); // [3, B, H, S, d]
  const part = (i: number, name: string): string => add('Gather', [stacked, ints(`${name}_index`, [i], true)], `Gather_${name}`, { axis: 0 });
  const q = part(0, 'query');
  const k = part(1, 'key');
  const v = part(2, 'value');
  const kT = add('Transpose', [k], 'Transpose_key', { perm: [0, 1, 3, 2] });
  let scores = add('Mul', [add('MatMul', [q, kT], 'MatMul_scores'), float('scale', plan.scale)], 'Mul_scale');

  if (maskIndex && plan.maskRank !== undefined) {
    let keep: string; // float 1 keep / 0 masked, [B, 1, 1 or S, total]
    if (plan.maskRank === 1) {
      // 1-D: the first B values are exclusive ends; a [2B] mask_index then has the inclusive starts
      const shape = add('Shape', [input!], 'Shape_input');
      const batch = add('Gather', [shape, ints('batch_axis', [0])], 'Gather_batch', { axis: 0 });
      const total = add('Gather', [shape, ints('sequence_axis', [1], true)], 'Gather_sequence', { axis: 0 });
      const zero = ints('zero', [0]);
      const index64 = add('Cast', [maskIndex], 'Cast_mask_index', { to: DataType.INT64 });
      const ends = add('Slice', [index64, zero, batch], 'Slice_ends');
      // pad with B zeros so that a [B] mask_index reads as starts = 0
      const padded = add('Concat', [index64, add('Mul', [ends, zero], 'Mul_zero')], 'Concat_starts', { axis: 0 });
      const starts = add('Slice', [padded, batch, add('Add', [batch, batch], 'Add_twice')], 'Slice_starts');
      const keys = add('Range', [ints('zero_scalar', [0], true), total, ints('one_scalar', [1], true)], 'Range_keys');
      const column = ints('column_shape', [-1, 1]);
      const beforeEnd = add('Less', [keys, add('Reshape', [ends, column], 'Reshape_ends')], 'Less_end');
      const fromStart = add('Not', [add('Less', [keys, add('Reshape', [starts, column], 'Reshape_starts')], 'Less_start')], 'Not_before_start');
      const kept = add('Cast', [add('And', [beforeEnd, fromStart], 'And_kept')], 'Cast_kept', { to: DataType.FLOAT });
      keep = add('Reshape', [kept, ints('mask_shape', [0, 1, 1, -1])], 'Reshape_mask');
    } else if (plan.maskRank === 2) {
      const kept = add('Cast', [maskIndex], 'Cast_mask', { to: DataType.FLOAT });
      keep = add('Reshape', [kept, ints('mask_shape', [0, 1, 1, -1])], 'Reshape_mask');
    } else {
      const kept = add('Cast', [maskIndex], 'Cast_mask', { to: DataType.FLOAT });
      const dims = add('Shape', [maskIndex], 'Shape_mask');
      const shape = add(
        'Concat',
        [add('Gather', [dims, ints('batch_axis', [0])], 'Gather_batch', { axis: 0 }), ints('one', [1]), add('Gather', [dims, ints('query_key_axes', [1, 2])], 'Gather_query_key', { axis: 0 })],
        'Concat_mask_shape',
        { axis: 0 },
      );
      keep = add('Reshape', [kept, shape], 'Reshape_mask');
    }
    const masked = add('Mul', [add('Sub', [float('one_float', 1), keep], 'Sub_mask'), float('mask_filter_value', plan.filter)], 'Mul_mask');
    scores = add('Add', [scores, masked], 'Add_mask');
  }
  // axis 3 of a rank-4 tensor: the key axis in every opset (before 13, Softmax flattens from the axis on)
  const probs = add('Softmax', [scores], 'Softmax', { axis: 3 });
  const context = add('Transpose', [add('MatMul', [probs, v], 'MatMul_context')], 'Transpose_context', { perm: [0, 2, 1, 3] });
  nodes.push(makeNode('Reshape', [context, ints('merged_shape', [0, 0, -1])], [node.output![0]!], value('Reshape_context')));
  return nodes;
}

/**
 * Writes every com.microsoft.Attention node of the main graph out as standard operators, in place (fresh node
 * array). All or nothing: when one cannot be written out, the model is left unchanged and `refused` says why.
 */
export function decomposeFusedAttention(model: ModelProto): AttentionDecomposition {
  const graph = model.graph;
  const nodes = graph?.node ?? [];
  if (!graph || !nodes.some(isFusedAttention)) return { decomposed: [], refused: [] };
  const index = new GraphIndex(graph);
  const opset = defaultOpset(model);
  const plans: Plan[] = [];
  const refused: AttentionDecomposition['refused'] = [];
  for (const i of index.order) {
    const node = nodes[i]!;
    if (!isFusedAttention(node)) continue;
    const plan = planFor(index, node, opset);
    if (typeof plan === 'string') refused.push({ node: node.name ?? '', reason: plan });
    else plans.push(plan);
  }
  if (refused.length > 0) return { decomposed: [], refused };

  const layerOf = new Map<NodeProto, number>();
  const names = plans.map((p) => layerIndexFromName(p.node.name));
  const namesTell = names.every((l) => l !== undefined) && new Set(names).size === names.length;
  plans.forEach((p, k) => layerOf.set(p.node, namesTell ? names[k]! : k));
  const planOf = new Map(plans.map((p) => [p.node, p]));
  graph.node = nodes.flatMap((node) => {
    const plan = planOf.get(node);
    return plan ? writeOut(plan, layerOf.get(node)!) : [node];
  });
  return { decomposed: plans.map((p) => p.node.name ?? ''), refused: [] };
}
