/**
 * Small constructors for ONNX messages, as onnx.helper has them in Python. The rewriter uses them
 * to add Identity nodes and graph outputs; tests use them to build tiny models by hand.
 */
import {
  AttributeProto,
  AttributeType,
  DataType,
  GraphProto,
  ModelProto,
  NodeProto,
  TensorProto,
  TensorShapeDimension,
  ValueInfoProto,
} from './proto';

/** A dimension: a fixed size, a symbolic name, or null for "unknown". */
export type Dim = number | string | null;

/**
 * An attribute value: an integer number is INT, another number FLOAT (`{ float }` forces FLOAT),
 * a string STRING, a number[] INTS, `{ floats }` FLOATS, a TensorProto TENSOR.
 */
export type AttributeValue = number | string | number[] | { float: number } | { floats: number[] } | TensorProto;

function makeAttribute(name: string, value: AttributeValue): AttributeProto {
  if (typeof value === 'string') {
    return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  }
  if (typeof value === 'number') {
    return Number.isInteger(value)
      ? { name, type: AttributeType.INT, i: value }
      : { name, type: AttributeType.FLOAT, f: value };
  }
  if (Array.isArray(value)) {
    return { name, type: AttributeType.INTS, ints: value };
  }
  if ('floats' in value) {
    return { name, type: AttributeType.FLOATS, floats: value.floats };
  }
  if ('float' in value) {
    return { name, type: AttributeType.FLOAT, f: value.float };
  }
  return { name, type: AttributeType.TENSOR, t: value as TensorProto };
}

export function makeNode(
  opType: string,
  inputs: string[],
  outputs: string[],
  name: string,
  attributes: Record<string, AttributeValue> = {},
  domain?: string,
): NodeProto {
  const node: NodeProto = { input: inputs, output: outputs, name, op_type: opType };
  const attrs = Object.entries(attributes).map(([key, value]) => makeAttribute(key, value));
  if (attrs.length > 0) {
    node.attribute = attrs;
  }
  if (domain !== undefined) {
    node.domain = domain;
  }
  return node;
}

/** A tensor value info; `dims` undefined means "shape unknown", [] means a scalar. */
export function makeTensorValueInfo(name: string, elemType: number, dims?: Dim[]): ValueInfoProto {
  const tensorType: NonNullable<NonNullable<ValueInfoProto['type']>['tensor_type']> = { elem_type: elemType };
  if (dims !== undefined) {
    tensorType.shape = {
      dim: dims.map((d): TensorShapeDimension => {
        if (typeof d === 'number') {
          return { dim_value: d };
        }
        return typeof d === 'string' ? { dim_param: d } : {};
      }),
    };
  }
  return { name, type: { tensor_type: tensorType } };
}

/** A float32 initializer stored as little-endian raw_data (how exporters write them). */
export function makeFloatTensor(name: string, dims: number[], values: ArrayLike<number>): TensorProto {
  const data = new Float32Array(values);
  return { name, dims, data_type: DataType.FLOAT, raw_data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** An int64 initializer stored as raw_data. */
export function makeInt64Tensor(name: string, dims: number[], values: ArrayLike<number>): TensorProto {
  const data = BigInt64Array.from(Array.from(values, (v) => BigInt(v)));
  return { name, dims, data_type: DataType.INT64, raw_data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

export function makeGraph(
  name: string,
  nodes: NodeProto[],
  inputs: ValueInfoProto[],
  outputs: ValueInfoProto[],
  initializers: TensorProto[] = [],
): GraphProto {
  return { name, node: nodes, input: inputs, output: outputs, initializer: initializers };
}

export function makeModel(
  graph: GraphProto,
  opsets: Array<{ domain?: string; version: number }> = [{ version: 17 }],
  irVersion = 8,
  producerName = 'lm-lens',
): ModelProto {
  return {
    ir_version: irVersion,
    producer_name: producerName,
    graph,
    opset_import: opsets.map((o) => (o.domain ? { domain: o.domain, version: o.version } : { version: o.version })),
  };
}
