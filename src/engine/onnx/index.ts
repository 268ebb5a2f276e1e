/**
 * ONNX graph reading and rewriting in TypeScript (protobufjs, no ONNX Runtime): find attention
 * Softmax nodes and block outputs of unfused transformer exports, and expose them as graph outputs.
 */
export { decodeModel, encodeModel, DataType, AttributeType } from './proto';
export type { ModelProto, GraphProto, NodeProto, ValueInfoProto, TensorProto, AttributeProto, TypeProto } from './proto';
export { findAttentionSoftmaxes, findFusedAttention } from './attention';
export type { AttentionSoftmax, FusedAttentionNode } from './attention';
export { findLayerOutputs } from './layers';
export type { LayerOutput } from './layers';
export { exposeOutputs, exposeOutputsCached, exposeCacheKey, sha256Hex, REWRITE_VERSION } from './expose';
export type { ExposeOptions, ExposeResult, ExposeMapping, ExposedOutput, CachedExpose } from './expose';
export { layerIndexFromName } from './graph';
