/**
 * Reads the graph inputs and outputs of an ONNX file (names, element types, shapes) without loading ONNX Runtime.
 *
 * An .onnx file is a protobuf `onnx.ModelProto`. We walk just enough of it to reach
 * ModelProto.graph (7) -> GraphProto.input (11) / output (12) -> ValueInfoProto.name (1) and .type (2) ->
 * TypeProto.tensor_type (1) -> elem_type (1), shape (2) -> dim (1) -> dim_value (1) / dim_param (2), and skip
 * the rest (nodes, weights) by seeking, so only a few kilobytes of a large model are read.
 * Initializers (GraphProto.initializer (5) -> TensorProto.name (8)) are read too: old exporters (IR < 4)
 * list every weight as a graph input, and those are not inputs a caller feeds.
 */
import { open, type FileHandle } from 'node:fs/promises';

/** A graph input or output as declared: element type ('float32', 'int64', ... as ONNX Runtime names them) and shape. */
export interface TensorInfo {
  name: string;
  /** Undefined when the graph does not declare a tensor type. */
  type: string | undefined;
  /** Numbers are fixed sizes, strings symbolic ones ('batch'), undefined a dimension with neither; no shape: undefined. */
  shape: (number | string | undefined)[] | undefined;
}

export interface OnnxSignature {
  inputs: string[];
  outputs: string[];
  /** The same inputs and outputs with their declared types and shapes. */
  inputInfo: TensorInfo[];
  outputInfo: TensorInfo[];
}

/** onnx.TensorProto.DataType -> ONNX Runtime's type name. */
const ELEMENT_TYPES: Readonly<Record<number, string>> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  16: 'bfloat16',
};

/** Thrown for anything that is not a well-formed ModelProto; callers turn it into MODEL_CORRUPT. */
export class OnnxFormatError extends Error {
  override readonly name = 'OnnxFormatError';
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH = 2;
const WIRE_FIXED32 = 5;

const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const GRAPH_INPUT = 11;
const GRAPH_OUTPUT = 12;
const VALUE_INFO_NAME = 1;
const VALUE_INFO_TYPE = 2;
const TYPE_TENSOR = 1;
const TENSOR_TYPE_ELEM = 1;
const TENSOR_TYPE_SHAPE = 2;
const SHAPE_DIM = 1;
const DIM_VALUE = 1;
const DIM_PARAM = 2;
const TENSOR_NAME = 8;

const CHUNK = 64 * 1024;

/** A forward-only protobuf reader over a file, buffering one chunk at a time. */
class ProtoFileReader {
  private buffer = Buffer.alloc(0);
  private bufferStart = 0;
  pos = 0;

  constructor(
    private readonly file: FileHandle,
    readonly size: number,
  ) {}

  /** Makes `[pos, pos + n)` (clipped to the file) available in the buffer. */
  private async fill(n: number): Promise<void> {
    const want = Math.min(n, this.size - this.pos);
    const offset = this.pos - this.bufferStart;
    if (offset >= 0 && offset + want <= this.buffer.length) return;
    const length = Math.min(Math.max(want, CHUNK), this.size - this.pos);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await this.file.read(buffer, 0, length, this.pos);
    this.buffer = buffer.subarray(0, bytesRead);
    this.bufferStart = this.pos;
  }

  async varint(): Promise<number> {
    await this.fill(10);
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const index = this.pos - this.bufferStart;
      if (index >= this.buffer.length) throw new OnnxFormatError('truncated varint');
      const byte = this.buffer[index] as number;
      this.pos++;
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return value;
      scale *= 128;
    }
    throw new OnnxFormatError('varint longer than 10 bytes');
  }

  async bytes(n: number): Promise<Buffer> {
    this.checkLength(n);
    await this.fill(n);
    const start = this.pos - this.bufferStart;
    this.pos += n;
    return this.buffer.subarray(start, start + n);
  }

  skip(n: number): void {
    this.checkLength(n);
    this.pos += n;
  }

  checkLength(n: number, end = this.size): void {
    if (this.pos + n > end) throw new OnnxFormatError(`field of ${n} bytes runs past its end at byte ${this.pos}`);
  }

  async tag(): Promise<{ field: number; wire: number }> {
    const tag = await this.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 0) throw new OnnxFormatError(`invalid field number 0 at byte ${this.pos}`);
    return { field, wire };
  }

  /** Skips one field's value of the given wire type. */
  async skipValue(wire: number): Promise<void> {
    switch (wire) {
      case WIRE_VARINT:
        await this.varint();
        return;
      case WIRE_FIXED64:
        this.skip(8);
        return;
      case WIRE_LENGTH:
        this.skip(await this.varint());
        return;
      case WIRE_FIXED32:
        this.skip(4);
        return;
      default:
        throw new OnnxFormatError(`unsupported protobuf wire type ${wire} at byte ${this.pos}`);
    }
  }

  /** Iterates over the fields of a message that ends at `end`, calling `onField` for each. */
  async fields(end: number, onField: (field: number, wire: number) => Promise<boolean>): Promise<void> {
    while (this.pos < end) {
      const { field, wire } = await this.tag();
      if (!(await onField(field, wire))) await this.skipValue(wire);
      if (this.pos > end) throw new OnnxFormatError('a field runs past the end of its message');
    }
  }

  /** Reads a length prefix and returns where that sub-message ends. */
  async messageEnd(parentEnd: number): Promise<number> {
    const length = await this.varint();
    this.checkLength(length, parentEnd);
    return this.pos + length;
  }

  /** Reads the string field `nameField` of the sub-message at the current position. */
  async nameOf(parentEnd: number, nameField: number): Promise<string> {
    const end = await this.messageEnd(parentEnd);
    let name = '';
    await this.fields(end, async (field, wire) => {
      if (field !== nameField || wire !== WIRE_LENGTH) return false;
      name = (await this.bytes(await this.varint())).toString('utf8');
      return true;
    });
    return name;
  }

  /** Reads the sub-message at the current position as a ValueInfoProto: name, tensor element type, shape. */
  async valueInfo(parentEnd: number): Promise<TensorInfo> {
    const end = await this.messageEnd(parentEnd);
    const info: TensorInfo = { name: '', type: undefined, shape: undefined };
    await this.fields(end, async (field, wire) => {
      if (wire !== WIRE_LENGTH) return false;
      if (field === VALUE_INFO_NAME) {
        info.name = (await this.bytes(await this.varint())).toString('utf8');
        return true;
      }
      if (field !== VALUE_INFO_TYPE) return false;
      const typeEnd = await this.messageEnd(end);
      await this.fields(typeEnd, async (typeField, typeWire) => {
        if (typeField !== TYPE_TENSOR || typeWire !== WIRE_LENGTH) return false; // sequences, maps: no tensor type
        const tensorEnd = await this.messageEnd(typeEnd);
        await this.fields(tensorEnd, async (tensorField, tensorWire) => {
          if (tensorField === TENSOR_TYPE_ELEM && tensorWire === WIRE_VARINT) {
            info.type = ELEMENT_TYPES[await this.varint()] ?? 'unknown';
            return true;
          }
          if (tensorField !== TENSOR_TYPE_SHAPE || tensorWire !== WIRE_LENGTH) return false;
          info.shape = await this.shape(tensorEnd);
          return true;
        });
        return true;
      });
      return true;
    });
    return info;
  }

  private async shape(parentEnd: number): Promise<(number | string | undefined)[]> {
    const end = await this.messageEnd(parentEnd);
    const dims: (number | string | undefined)[] = [];
    await this.fields(end, async (field, wire) => {
      if (field !== SHAPE_DIM || wire !== WIRE_LENGTH) return false;
      const dimEnd = await this.messageEnd(end);
      let dim: number | string | undefined;
      await this.fields(dimEnd, async (dimField, dimWire) => {
        if (dimField === DIM_VALUE && dimWire === WIRE_VARINT) {
          const value = await this.varint();
          dim = Number.isSafeInteger(value) ? value : undefined; // a negative int64 reads as a huge number
          return true;
        }
        if (dimField === DIM_PARAM && dimWire === WIRE_LENGTH) {
          dim = (await this.bytes(await this.varint())).toString('utf8');
          return true;
        }
        return false;
      });
      dims.push(dim);
      return true;
    });
    return dims;
  }
}

/** Reads the graph inputs and outputs of the ONNX model at `file`. Throws `OnnxFormatError` on malformed files. */
export async function readOnnxSignature(file: string): Promise<OnnxSignature> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const reader = new ProtoFileReader(handle, size);
    const inputs: TensorInfo[] = [];
    const outputs: TensorInfo[] = [];
    const initializers = new Set<string>();
    let graphs = 0;
    await reader.fields(size, async (field, wire) => {
      if (field !== MODEL_GRAPH) return false;
      if (wire !== WIRE_LENGTH) throw new OnnxFormatError('ModelProto.graph is not a message');
      graphs++;
      const graphEnd = await reader.messageEnd(size);
      await reader.fields(graphEnd, async (graphField, graphWire) => {
        if (graphWire !== WIRE_LENGTH) return false;
        if (graphField === GRAPH_INPUT) inputs.push(await reader.valueInfo(graphEnd));
        else if (graphField === GRAPH_OUTPUT) outputs.push(await reader.valueInfo(graphEnd));
        else if (graphField === GRAPH_INITIALIZER) initializers.add(await reader.nameOf(graphEnd, TENSOR_NAME));
        else return false;
        return true;
      });
      return true;
    });
    if (graphs === 0) throw new OnnxFormatError('no graph found (is this an ONNX model?)');
    if (outputs.length === 0) throw new OnnxFormatError('the graph declares no outputs');
    const inputInfo = inputs.filter((input) => !initializers.has(input.name));
    return { inputs: inputInfo.map((i) => i.name), outputs: outputs.map((o) => o.name), inputInfo, outputInfo: outputs };
  } finally {
    await handle.close();
  }
}
