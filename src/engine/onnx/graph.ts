/**
 * Read-only indexes over one GraphProto: who produces and who consumes each value, a topological
 * order, which values depend on a graph input (activations) and which only on weights, and the
 * transformer layer a node belongs to, read from the names exporters give nodes.
 */
import { DataType, GraphProto, NodeProto, ValueInfoProto, int64ToNumber } from './proto';

/** Matches the path segment that names a transformer block in HF exports:
 *  `/bert/encoder/layer.3/...`, `/transformer/h.3/...`, `/model/layers.3/...`, `/encoder/block.3/layer.0/...`. */
const LAYER_SEGMENT = /^(?:layer|layers|h|block|blocks|encoder_layer|decoder_layer)[._](\d+)$/;

/** The block index in an exporter's node name (first matching `/`-separated segment), or undefined. */
export function layerIndexFromName(name: string | undefined): number | undefined {
  if (!name) {
    return undefined;
  }
  for (const segment of name.split('/')) {
    const match = LAYER_SEGMENT.exec(segment);
    if (match) {
      return Number(match[1]);
    }
  }
  return undefined;
}

/** Operators whose output has the element type of their first input. */
const SAME_TYPE_AS_INPUT = new Set([
  'Add', 'Sub', 'Mul', 'Div', 'Softmax', 'Identity', 'Reshape', 'Transpose', 'MatMul', 'Relu', 'Gelu',
  'Tanh', 'Sigmoid', 'Erf', 'Sqrt', 'Pow', 'LayerNormalization', 'SkipLayerNormalization',
  'SimplifiedLayerNormalization', 'SkipSimplifiedLayerNormalization', 'RMSNormalization', 'Neg',
  'Squeeze', 'Unsqueeze', 'Slice', 'Concat', 'Expand', 'Dropout', 'ReduceMean', 'FusedMatMul', 'Gemm',
]);

export class GraphIndex {
  readonly nodes: readonly NodeProto[];
  /** value name -> index of the node that produces it */
  readonly producer = new Map<string, number>();
  /** value name -> indexes of the nodes that read it */
  readonly consumers = new Map<string, number[]>();
  /** initializer name -> its TensorProto.DataType */
  readonly initializers = new Map<string, number>();
  /** initializer name -> its dims */
  readonly initializerDims = new Map<string, number[]>();
  readonly graphInputs = new Set<string>();
  readonly graphOutputs = new Set<string>();
  /** Declared types: graph inputs, outputs and value_info. */
  readonly valueInfo = new Map<string, ValueInfoProto>();
  /** Node indexes in topological order (graph order when the graph is already sorted). */
  readonly order: number[];
  /** node index -> position in `order` */
  readonly position: Int32Array;
  /** Values computed from a graph input (not from weights and constants only). */
  readonly live = new Set<string>();

  /**
   * @param outer the enclosing graph's index, for a subgraph (an If branch): values the subgraph
   *   reads from outside are activations when they are in the outer graph, weights when they are
   *   outer initializers.
   */
  constructor(
    readonly graph: GraphProto,
    readonly outer?: GraphIndex,
  ) {
    this.nodes = graph.node ?? [];
    for (const tensor of graph.initializer ?? []) {
      if (tensor.name) {
        this.initializers.set(tensor.name, tensor.data_type ?? 0);
        this.initializerDims.set(tensor.name, (tensor.dims ?? []).map((d) => int64ToNumber(d)));
      }
    }
    for (const info of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.value_info ?? [])]) {
      if (info.name && !this.valueInfo.has(info.name)) {
        this.valueInfo.set(info.name, info);
      }
    }
    for (const input of graph.input ?? []) {
      if (input.name && !this.initializers.has(input.name)) {
        this.graphInputs.add(input.name);
      }
    }
    for (const output of graph.output ?? []) {
      if (output.name) {
        this.graphOutputs.add(output.name);
      }
    }
    this.nodes.forEach((node, i) => {
      for (const out of node.output ?? []) {
        if (out) {
          this.producer.set(out, i);
        }
      }
      for (const input of node.input ?? []) {
        if (input) {
          const list = this.consumers.get(input);
          if (list) {
            list.push(i);
          } else {
            this.consumers.set(input, [i]);
          }
        }
      }
    });
    this.order = this.topologicalOrder();
    this.position = new Int32Array(this.nodes.length);
    this.order.forEach((nodeIndex, pos) => {
      this.position[nodeIndex] = pos;
    });
    for (const name of this.graphInputs) {
      this.live.add(name);
    }
    if (outer) {
      for (const name of this.consumers.keys()) {
        if (!this.producer.has(name) && !this.initializers.has(name) && outer.live.has(name)) {
          this.live.add(name); // read from the enclosing graph
        }
      }
    }
    for (const i of this.order) {
      const node = this.nodes[i];
      if ((node.input ?? []).some((name) => this.live.has(name))) {
        for (const out of node.output ?? []) {
          if (out) {
            this.live.add(out);
          }
        }
      }
    }
  }

  /**
   * Graph order when it is already topological (ONNX requires it, exporters comply); otherwise
   * Kahn's algorithm taking the ready node with the smallest graph index first. Nodes left in a
   * cycle (invalid ONNX) go last.
   */
  private topologicalOrder(): number[] {
    const count = this.nodes.length;
    const seen = new Set<string>();
    let sorted = true;
    for (const node of this.nodes) {
      if ((node.input ?? []).some((name) => name && this.producer.has(name) && !seen.has(name))) {
        sorted = false;
        break;
      }
      for (const out of node.output ?? []) {
        seen.add(out);
      }
    }
    if (sorted) {
      return Array.from({ length: count }, (_, i) => i);
    }
    const pending = new Int32Array(count);
    this.nodes.forEach((node, i) => {
      pending[i] = (node.input ?? []).filter((name) => name && this.producer.has(name)).length;
    });
    const ready = new MinHeap();
    for (let i = 0; i < count; i++) {
      if (pending[i] === 0) {
        ready.push(i);
      }
    }
    const order: number[] = [];
    const done = new Uint8Array(count);
    for (let i = ready.pop(); i !== undefined; i = ready.pop()) {
      done[i] = 1;
      order.push(i);
      for (const out of this.nodes[i].output ?? []) {
        for (const consumer of this.consumers.get(out) ?? []) {
          // `consumers` has one entry per input slot, so a node reading `out` twice is counted twice.
          pending[consumer] -= 1;
          if (pending[consumer] === 0 && !done[consumer]) {
            ready.push(consumer);
          }
        }
      }
    }
    for (let i = 0; i < count; i++) {
      if (!done[i]) {
        order.push(i);
      }
    }
    return order;
  }

  private readonly ranks = new Map<string, number | undefined>();

  /**
   * The rank of a value, when the graph tells: a declared shape, an initializer's or Constant's dims, or carried
   * through the operators attention and reshaping code is made of (Transpose's perm, Reshape's constant or
   * concatenated shape, MatMul and broadcasting element-wise operators). Undefined when nothing tells.
   */
  rankOf(value: string): number | undefined {
    if (this.ranks.has(value)) return this.ranks.get(value);
    this.ranks.set(value, undefined); // a cycle (invalid ONNX) ends here
    const rank = this.inferRank(value);
    this.ranks.set(value, rank);
    return rank;
  }

  /** The number of elements of a 1-D value (a shape tensor), when the graph tells. */
  lengthOf(value: string): number | undefined {
    const dims = this.initializerDims.get(value);
    if (dims) return dims.length === 1 ? dims[0] : dims.length === 0 ? 1 : undefined;
    const node = this.producerOf(value);
    if (!node) return undefined;
    const inputs = node.input ?? [];
    switch (node.op_type) {
      case 'Constant': {
        const t = node.attribute?.find((a) => a.name === 'value')?.t;
        const tdims = t?.dims?.map((d) => int64ToNumber(d));
        return tdims ? (tdims.length === 0 ? 1 : tdims.length === 1 ? tdims[0] : undefined) : undefined;
      }
      case 'Shape':
        return inputs[0] === undefined ? undefined : this.rankOf(inputs[0]);
      case 'Unsqueeze':
        return inputs[0] !== undefined && this.rankOf(inputs[0]) === 0 ? 1 : undefined;
      case 'Cast':
      case 'Identity':
        return inputs[0] === undefined ? undefined : this.lengthOf(inputs[0]);
      case 'Concat': {
        let total = 0;
        for (const input of inputs) {
          const n = this.lengthOf(input);
          if (n === undefined) return undefined;
          total += n;
        }
        return total;
      }
      default:
        return undefined;
    }
  }

  private inferRank(value: string): number | undefined {
    const declared = this.valueInfo.get(value)?.type?.tensor_type?.shape?.dim;
    if (declared) return declared.length;
    const dims = this.initializerDims.get(value);
    if (dims) return dims.length;
    const node = this.producerOf(value);
    if (!node) return this.outer && !this.graphInputs.has(value) ? this.outer.rankOf(value) : undefined;
    const inputs = (node.input ?? []).filter((name) => name);
    const rankOfInput = (i: number): number | undefined => (inputs[i] === undefined ? undefined : this.rankOf(inputs[i]!));
    const allKnownMax = (names: readonly string[]): number | undefined => {
      let max = 0;
      for (const name of names) {
        const r = this.rankOf(name);
        if (r === undefined) return undefined;
        max = Math.max(max, r);
      }
      return max;
    };
    switch (node.op_type) {
      case 'Constant': {
        const t = node.attribute?.find((a) => a.name === 'value')?.t;
        return t ? (t.dims ?? []).length : undefined;
      }
      case 'Transpose':
        return intsAttribute(node, 'perm')?.length ?? rankOfInput(0);
      case 'Reshape':
        return inputs[1] === undefined ? undefined : this.lengthOf(inputs[1]);
      case 'Shape':
      case 'Range':
        return 1;
      case 'ConstantOfShape':
        return inputs[0] === undefined ? undefined : this.lengthOf(inputs[0]);
      case 'MatMul':
      case 'FusedMatMul': {
        const [a, b] = [rankOfInput(0), rankOfInput(1)];
        return a === undefined || b === undefined ? undefined : Math.max(a, b);
      }
      case 'Add': case 'Sub': case 'Mul': case 'Div': case 'Max': case 'Min': case 'Pow': case 'Where': case 'Equal':
      case 'Less': case 'Greater': case 'And': case 'Or':
        return allKnownMax(inputs);
      case 'Concat':
        return inputs.map((name) => this.rankOf(name)).find((r) => r !== undefined);
      case 'Cast': case 'Identity': case 'Softmax': case 'Slice': case 'Dropout': case 'Relu': case 'Tanh': case 'Sigmoid': case 'Erf':
      case 'Sqrt': case 'Neg': case 'Clip': case 'Exp': case 'Not': case 'LayerNormalization': case 'Gelu':
        return rankOfInput(0);
      case 'Unsqueeze': {
        const axes = intsAttribute(node, 'axes')?.length ?? (inputs[1] === undefined ? undefined : this.lengthOf(inputs[1]));
        const r = rankOfInput(0);
        return r === undefined || axes === undefined ? undefined : r + axes;
      }
      case 'Squeeze': {
        const axes = intsAttribute(node, 'axes')?.length ?? (inputs[1] === undefined ? undefined : this.lengthOf(inputs[1]));
        const r = rankOfInput(0);
        return r === undefined || axes === undefined ? undefined : r - axes;
      }
      case 'Expand': {
        const r = rankOfInput(0);
        const n = inputs[1] === undefined ? undefined : this.lengthOf(inputs[1]);
        return r === undefined || n === undefined ? undefined : Math.max(r, n);
      }
      case 'ReduceSum': case 'ReduceMean': case 'ReduceMax': case 'ReduceMin': case 'ReduceProd': {
        const r = rankOfInput(0);
        if (r === undefined || intAttribute(node, 'keepdims', 1) === 1) return r;
        const axes = intsAttribute(node, 'axes')?.length ?? (inputs[1] === undefined ? r : this.lengthOf(inputs[1]));
        return axes === undefined ? undefined : r - axes;
      }
      case 'Gather': {
        const [d, i] = [rankOfInput(0), rankOfInput(1)];
        return d === undefined || i === undefined ? undefined : d - 1 + i;
      }
      default:
        return undefined;
    }
  }

  producerOf(value: string): NodeProto | undefined {
    const i = this.producer.get(value);
    return i === undefined ? undefined : this.nodes[i];
  }

  consumersOf(value: string): NodeProto[] {
    return (this.consumers.get(value) ?? []).map((i) => this.nodes[i]);
  }

  /** Layer index from the node's name (see layerIndexFromName). */
  layerOf(nodeIndex: number): number | undefined {
    return layerIndexFromName(this.nodes[nodeIndex].name);
  }

  /**
   * The element type (TensorProto.DataType) of a value: declared, or carried up through operators
   * that keep their input's type; FLOAT when nothing tells.
   */
  elemTypeOf(value: string): number {
    let current = value;
    for (let step = 0; step < 64; step++) {
      const declared = this.valueInfo.get(current)?.type?.tensor_type?.elem_type;
      if (declared) {
        return declared;
      }
      const tensorType = this.initializers.get(current);
      if (tensorType) {
        return tensorType;
      }
      const node = this.producerOf(current);
      if (!node) {
        return this.outer && !this.graphInputs.has(current) ? this.outer.elemTypeOf(current) : DataType.FLOAT;
      }
      if (node.op_type === 'Cast') {
        const to = node.attribute?.find((a) => a.name === 'to');
        return to ? int64ToNumber(to.i) : DataType.FLOAT;
      }
      if (!SAME_TYPE_AS_INPUT.has(node.op_type ?? '') || !node.input?.[0]) {
        break;
      }
      current = node.input[0];
    }
    return DataType.FLOAT;
  }
}

/** A binary min-heap of node indexes. */
class MinHeap {
  private readonly items: number[] = [];

  push(value: number): void {
    const items = this.items;
    items.push(value);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent] <= items[i]) {
        break;
      }
      [items[parent], items[i]] = [items[i], items[parent]];
      i = parent;
    }
  }

  pop(): number | undefined {
    const items = this.items;
    if (items.length === 0) {
      return undefined;
    }
    const top = items[0];
    const last = items.pop() as number;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && items[left] < items[smallest]) {
          smallest = left;
        }
        if (right < items.length && items[right] < items[smallest]) {
          smallest = right;
        }
        if (smallest === i) {
          break;
        }
        [items[smallest], items[i]] = [items[i], items[smallest]];
        i = smallest;
      }
    }
    return top;
  }
}

/** Reads an INT attribute (or the default). */
export function intAttribute(node: NodeProto, name: string, fallback: number): number {
  const attr = node.attribute?.find((a) => a.name === name);
  return attr && attr.i !== undefined && attr.i !== null ? int64ToNumber(attr.i) : fallback;
}

/** Reads an INTS attribute (or undefined). */
export function intsAttribute(node: NodeProto, name: string): number[] | undefined {
  const attr = node.attribute?.find((a) => a.name === name);
  return attr?.ints ? attr.ints.map((v) => int64ToNumber(v)) : undefined;
}
