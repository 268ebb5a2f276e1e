/**
 * Reads the graph input and output names of an ONNX file without loading ONNX Runtime.
 *
 * An .onnx file is a protobuf `onnx.ModelProto`. We walk just enough of it to reach
 * ModelProto.graph (7) -> GraphProto.input (11) / output (12) -> ValueInfoProto.name (1), and skip the
 * rest (nodes, weights) by seeking, so only a few kilobytes of a large model are read.
 * Initializers (GraphProto.initializer (5) -> TensorProto.name (8)) are read too: old exporters (IR < 4)
 * list every weight as a graph input, and those are not inputs a caller feeds.
 */
import { open, type FileHandle } from 'node:fs/promises';

export interface OnnxSignature {
  inputs: string[];
  outputs: string[];
}

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
}

/** Reads graph input/output names of the ONNX model at `file`. Throws `OnnxFormatError` on malformed files. */
export async function readOnnxSignature(file: string): Promise<OnnxSignature> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const reader = new ProtoFileReader(handle, size);
    const inputs: string[] = [];
    const outputs: string[] = [];
    const initializers = new Set<string>();
    let graphs = 0;
    await reader.fields(size, async (field, wire) => {
      if (field !== MODEL_GRAPH) return false;
      if (wire !== WIRE_LENGTH) throw new OnnxFormatError('ModelProto.graph is not a message');
      graphs++;
      const graphEnd = await reader.messageEnd(size);
      await reader.fields(graphEnd, async (graphField, graphWire) => {
        if (graphWire !== WIRE_LENGTH) return false;
        if (graphField === GRAPH_INPUT) inputs.push(await reader.nameOf(graphEnd, VALUE_INFO_NAME));
        else if (graphField === GRAPH_OUTPUT) outputs.push(await reader.nameOf(graphEnd, VALUE_INFO_NAME));
        else if (graphField === GRAPH_INITIALIZER) initializers.add(await reader.nameOf(graphEnd, TENSOR_NAME));
        else return false;
        return true;
      });
      return true;
    });
    if (graphs === 0) throw new OnnxFormatError('no graph found (is this an ONNX model?)');
    if (outputs.length === 0) throw new OnnxFormatError('the graph declares no outputs');
    return { inputs: inputs.filter((name) => !initializers.has(name)), outputs };
  } finally {
    await handle.close();
  }
}
