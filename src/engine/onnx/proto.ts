/**
 * A hand-written subset of onnx.proto (IR version 10), decoded and encoded with protobufjs.
 *
 * Lossless by design: the schema is proto2 like onnx.proto (explicit presence, the same `packed`
 * options), enum fields are declared as int32 (so an unknown enum value stays in place), and every
 * field we do not declare is kept by protobufjs in `$unknowns` and written back after the known ones.
 * The fields left out are the last ones of their message (ModelProto.training_info = 20,
 * functions = 25, configuration = 26; NodeProto.device_configurations = 10), so a file written by
 * the C++ protobuf library (fields in number order, unknown ones last) re-encodes byte for byte.
 * Initializer `raw_data` is decoded as a view into the input buffer, not copied.
 */
import * as protobuf from 'protobufjs';

const ONNX_PROTO = `
syntax = "proto2";
package onnx;

message AttributeProto {
  optional string name = 1;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  optional GraphProto g = 6;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
  repeated TensorProto tensors = 10;
  repeated GraphProto graphs = 11;
  optional string doc_string = 13;
  optional TypeProto tp = 14;
  repeated TypeProto type_protos = 15;
  optional int32 type = 20;
  optional string ref_attr_name = 21;
  optional SparseTensorProto sparse_tensor = 22;
  repeated SparseTensorProto sparse_tensors = 23;
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
  optional string doc_string = 3;
  repeated StringStringEntryProto metadata_props = 4;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
  optional string domain = 7;
  optional string overload = 8;
  repeated StringStringEntryProto metadata_props = 9;
}

message ModelProto {
  optional int64 ir_version = 1;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
  repeated StringStringEntryProto metadata_props = 14;
}

message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}

message TensorAnnotation {
  optional string tensor_name = 1;
  repeated StringStringEntryProto quant_parameter_tensor_names = 2;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
  repeated TensorAnnotation quantization_annotation = 14;
  repeated SparseTensorProto sparse_initializer = 15;
  repeated StringStringEntryProto metadata_props = 16;
}

message TensorProto {
  message Segment {
    optional int64 begin = 1;
    optional int64 end = 2;
  }
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  optional Segment segment = 3;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated bytes string_data = 6;
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional bytes raw_data = 9;
  repeated double double_data = 10 [packed = true];
  repeated uint64 uint64_data = 11 [packed = true];
  optional string doc_string = 12;
  repeated StringStringEntryProto external_data = 13;
  optional int32 data_location = 14;
  repeated StringStringEntryProto metadata_props = 16;
}

message SparseTensorProto {
  optional TensorProto values = 1;
  optional TensorProto indices = 2;
  repeated int64 dims = 3;
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
    optional string denotation = 3;
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  message Sequence {
    optional TypeProto elem_type = 1;
  }
  message Map {
    optional int32 key_type = 1;
    optional TypeProto value_type = 2;
  }
  message Optional {
    optional TypeProto elem_type = 1;
  }
  message SparseTensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
    Sequence sequence_type = 4;
    Map map_type = 5;
    TypeProto.SparseTensor sparse_tensor_type = 8;
    Optional optional_type = 9;
  }
  optional string denotation = 6;
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
`;

/** protobufjs decodes int64 as a long.js `Long` (it bundles long.js); new values may be plain numbers. */
export type Int64 = number | protobuf.Long;

/** Fields protobufjs keeps for wire data this schema does not declare. */
interface Unknowns {
  $unknowns?: Uint8Array[];
}

export interface StringStringEntryProto extends Unknowns {
  key?: string;
  value?: string;
}

export interface OperatorSetIdProto extends Unknowns {
  domain?: string;
  version?: Int64;
}

export interface TensorShapeDimension extends Unknowns {
  dim_value?: Int64;
  dim_param?: string;
  denotation?: string;
}

export interface TensorShapeProto extends Unknowns {
  dim?: TensorShapeDimension[];
}

export interface TypeProto extends Unknowns {
  tensor_type?: { elem_type?: number; shape?: TensorShapeProto } & Unknowns;
  sequence_type?: { elem_type?: TypeProto } & Unknowns;
  map_type?: { key_type?: number; value_type?: TypeProto } & Unknowns;
  sparse_tensor_type?: { elem_type?: number; shape?: TensorShapeProto } & Unknowns;
  optional_type?: { elem_type?: TypeProto } & Unknowns;
  denotation?: string;
}

export interface ValueInfoProto extends Unknowns {
  name?: string;
  type?: TypeProto;
  doc_string?: string;
  metadata_props?: StringStringEntryProto[];
}

export interface TensorProto extends Unknowns {
  dims?: Int64[];
  data_type?: number;
  segment?: { begin?: Int64; end?: Int64 } & Unknowns;
  float_data?: number[];
  int32_data?: number[];
  string_data?: Uint8Array[];
  int64_data?: Int64[];
  name?: string;
  raw_data?: Uint8Array;
  double_data?: number[];
  uint64_data?: Int64[];
  doc_string?: string;
  external_data?: StringStringEntryProto[];
  data_location?: number;
  metadata_props?: StringStringEntryProto[];
}

export interface SparseTensorProto extends Unknowns {
  values?: TensorProto;
  indices?: TensorProto;
  dims?: Int64[];
}

export interface AttributeProto extends Unknowns {
  name?: string;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
  doc_string?: string;
  tp?: TypeProto;
  type_protos?: TypeProto[];
  type?: number;
  ref_attr_name?: string;
  sparse_tensor?: SparseTensorProto;
  sparse_tensors?: SparseTensorProto[];
}

export interface NodeProto extends Unknowns {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  attribute?: AttributeProto[];
  doc_string?: string;
  domain?: string;
  overload?: string;
  metadata_props?: StringStringEntryProto[];
}

export interface GraphProto extends Unknowns {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  doc_string?: string;
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  value_info?: ValueInfoProto[];
  quantization_annotation?: Unknowns[];
  sparse_initializer?: SparseTensorProto[];
  metadata_props?: StringStringEntryProto[];
}

export interface ModelProto extends Unknowns {
  ir_version?: Int64;
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: Int64;
  doc_string?: string;
  graph?: GraphProto;
  opset_import?: OperatorSetIdProto[];
  metadata_props?: StringStringEntryProto[];
}

/** TensorProto.DataType values used here. */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  BFLOAT16: 16,
} as const;

/** AttributeProto.AttributeType values used here. */
export const AttributeType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
} as const;

let modelType: protobuf.Type | undefined;

function modelProtoType(): protobuf.Type {
  if (!modelType) {
    const root = protobuf.parse(ONNX_PROTO, { keepCase: true }).root;
    modelType = root.lookupType('onnx.ModelProto');
  }
  return modelType;
}

/**
 * Decodes an ONNX model. Throws protobufjs' error on malformed input (callers turn it into
 * MODEL_CORRUPT). The returned object keeps views into `bytes`: do not reuse the buffer meanwhile.
 */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const reader = protobuf.Reader.create(bytes);
  reader.discardUnknown = false; // protobufjs drops unknown fields unless told
  return modelProtoType().decode(reader) as unknown as ModelProto;
}

/** Encodes a model (decoded or built by hand): known fields in field-number order, then unknown ones. */
export function encodeModel(model: ModelProto): Uint8Array {
  return modelProtoType().encode(model as unknown as protobuf.Message).finish();
}

/** int64 (number or Long) to a JS number; exact up to 2^53. */
export function int64ToNumber(value: Int64 | undefined | null): number {
  if (value === undefined || value === null) {
    return 0;
  }
  if (typeof value === 'number') {
    return value;
  }
  const low = value.low >>> 0;
  return (value.unsigned ? value.high >>> 0 : value.high | 0) * 2 ** 32 + low;
}
