/**
 * Test helper: encodes tiny ONNX models by hand (a protobuf writer for the few onnx.proto fields used),
 * so tests can run real ONNX Runtime sessions without shipped models.
 */

export const FLOAT = 1;
export const INT32 = 6;
export const INT64 = 7;

type Bytes = Uint8Array;

/** Concatenates byte strings (no spreading: weights can be large). */
function cat(...parts: (Bytes | Bytes[])[]): Bytes {
  const flat = parts.flat();
  const out = new Uint8Array(flat.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of flat) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function varint(value: number): Bytes {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`varint: ${value}`);
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

const tag = (field: number, wire: number): Bytes => varint(field * 8 + wire);
const int = (field: number, value: number): Bytes => cat(tag(field, 0), varint(value));
const bytes = (field: number, payload: Bytes): Bytes => cat(tag(field, 2), varint(payload.length), payload);
const str = (field: number, value: string): Bytes => bytes(field, new TextEncoder().encode(value));
const float = (field: number, value: number): Bytes => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, value, true);
  return cat(tag(field, 5), b);
};

export interface ValueInfo {
  name: string;
  elemType: number;
  /** Numbers are fixed sizes, strings symbolic ones. */
  dims: (number | string)[];
}

export interface Attribute {
  name: string;
  i?: number;
  f?: number;
  ints?: number[];
}

export interface Node {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: Attribute[];
}

export interface Initializer {
  name: string;
  dims: number[];
  float?: number[];
  int64?: number[];
}

export interface Graph {
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  nodes: Node[];
  initializers?: Initializer[];
  /** Also list initializers as graph inputs, like exporters for IR < 4 did. */
  initializersAsInputs?: boolean;
  opset?: number;
  irVersion?: number;
}

function valueInfo(v: ValueInfo): Bytes {
  const dims = v.dims.map((d) => bytes(1, typeof d === 'number' ? int(1, d) : str(2, d)));
  const tensorType = cat(int(1, v.elemType), bytes(2, cat(dims)));
  return cat(str(1, v.name), bytes(2, bytes(1, tensorType)));
}

function attribute(a: Attribute): Bytes {
  if (a.ints) return cat(str(1, a.name), a.ints.map((n) => int(8, n)), int(20, 7));
  if (a.f !== undefined) return cat(str(1, a.name), float(2, a.f), int(20, 1));
  return cat(str(1, a.name), int(3, a.i ?? 0), int(20, 2));
}

function tensor(t: Initializer): Bytes {
  const dims = t.dims.map((d) => int(1, d));
  if (t.float) {
    const raw = new Uint8Array(new Float32Array(t.float).buffer);
    return cat(dims, int(2, FLOAT), str(8, t.name), bytes(9, raw));
  }
  const raw = new Uint8Array(new BigInt64Array((t.int64 ?? []).map(BigInt)).buffer);
  return cat(dims, int(2, INT64), str(8, t.name), bytes(9, raw));
}

function node(n: Node, index: number): Bytes {
  return cat(
    n.inputs.map((i) => str(1, i)),
    n.outputs.map((o) => str(2, o)),
    str(3, `${n.op}_${index}`),
    str(4, n.op),
    (n.attributes ?? []).map((a) => bytes(5, attribute(a))),
  );
}

export function encodeModel(g: Graph): Uint8Array {
  const initializers = g.initializers ?? [];
  const graphInputs = [
    ...g.inputs,
    ...(g.initializersAsInputs
      ? initializers.map((i) => ({ name: i.name, elemType: i.float ? FLOAT : INT64, dims: i.dims }))
      : []),
  ];
  const graph = cat(
    g.nodes.map((n, i) => bytes(1, node(n, i))),
    str(2, 'test-graph'),
    initializers.map((i) => bytes(5, tensor(i))),
    graphInputs.map((v) => bytes(11, valueInfo(v))),
    g.outputs.map((v) => bytes(12, valueInfo(v))),
  );
  return cat(int(1, g.irVersion ?? 8), str(2, 'lm-lens-tests'), bytes(7, graph), bytes(8, cat(str(1, ''), int(2, g.opset ?? 13))));
}

export const ELMO_DIM = 4;
export const ELMO_CHARS = 50;

/**
 * An ELMo-shaped model that ONNX Runtime really runs (inputs char_ids int64 [batch, seq, 50] and
 * attention_mask int64 [batch, seq]; output hidden_states float32 [3, batch, seq, 4]):
 *   layer 0 = char_ids @ W, with W's columns: sum of ids, id of byte 1, id of byte 2, sum of k * id_k
 *   layer 1 = layer 0 * mask
 *   layer 2 = layer 1 + its mean over the sequence (so it depends on the context)
 */
export function elmoLikeModel(): Uint8Array {
  const w: number[] = [];
  for (let k = 0; k < ELMO_CHARS; k++) w.push(1, k === 1 ? 1 : 0, k === 2 ? 1 : 0, k);
  return encodeModel({
    inputs: [
      { name: 'char_ids', elemType: INT64, dims: ['batch', 'seq', ELMO_CHARS] },
      { name: 'attention_mask', elemType: INT64, dims: ['batch', 'seq'] },
    ],
    outputs: [{ name: 'hidden_states', elemType: FLOAT, dims: [3, 'batch', 'seq', ELMO_DIM] }],
    initializers: [
      { name: 'W', dims: [ELMO_CHARS, ELMO_DIM], float: w },
      { name: 'axis0', dims: [1], int64: [0] },
      { name: 'axis2', dims: [1], int64: [2] },
    ],
    nodes: [
      { op: 'Cast', inputs: ['char_ids'], outputs: ['chars_f'], attributes: [{ name: 'to', i: FLOAT }] },
      { op: 'MatMul', inputs: ['chars_f', 'W'], outputs: ['h0'] },
      { op: 'Cast', inputs: ['attention_mask'], outputs: ['mask_f'], attributes: [{ name: 'to', i: FLOAT }] },
      { op: 'Unsqueeze', inputs: ['mask_f', 'axis2'], outputs: ['mask3'] },
      { op: 'Mul', inputs: ['h0', 'mask3'], outputs: ['h1'] },
      { op: 'ReduceMean', inputs: ['h1'], outputs: ['mean'], attributes: [{ name: 'axes', ints: [1] }, { name: 'keepdims', i: 1 }] },
      { op: 'Add', inputs: ['h1', 'mean'], outputs: ['h2'] },
      { op: 'Unsqueeze', inputs: ['h0', 'axis0'], outputs: ['u0'] },
      { op: 'Unsqueeze', inputs: ['h1', 'axis0'], outputs: ['u1'] },
      { op: 'Unsqueeze', inputs: ['h2', 'axis0'], outputs: ['u2'] },
      { op: 'Concat', inputs: ['u0', 'u1', 'u2'], outputs: ['hidden_states'], attributes: [{ name: 'axis', i: 0 }] },
    ],
  });
}

/** Parses as ONNX (same signature as an ELMo) but ONNX Runtime refuses it: the op does not exist. */
export function unloadableModel(): Uint8Array {
  return encodeModel({
    inputs: [
      { name: 'char_ids', elemType: INT64, dims: ['batch', 'seq', ELMO_CHARS] },
      { name: 'attention_mask', elemType: INT64, dims: ['batch', 'seq'] },
    ],
    outputs: [{ name: 'hidden_states', elemType: FLOAT, dims: [3, 'batch', 'seq', ELMO_DIM] }],
    nodes: [{ op: 'NoSuchOperator', inputs: ['char_ids', 'attention_mask'], outputs: ['hidden_states'] }],
  });
}
