/**
 * What model code sees of an inference session: plain typed arrays in, plain typed arrays out.
 * Only runtime/ort.ts implements it (with ONNX Runtime); model code (elmo.ts, ...) and tests use this type.
 */

export type HostTensor =
  | { type: 'float32'; data: Float32Array; dims: readonly number[] }
  | { type: 'int64'; data: BigInt64Array; dims: readonly number[] }
  | { type: 'int32'; data: Int32Array; dims: readonly number[] }
  | { type: 'bool'; data: Uint8Array; dims: readonly number[] };

export interface ModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the graph; `outputs` limits what is fetched (default: every output). */
  run(feeds: Record<string, HostTensor>, outputs?: readonly string[]): Promise<Record<string, HostTensor>>;
}
