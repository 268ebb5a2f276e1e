/**
 * The engine's public types: the one contract shared by the CLI, the extension and the worker.
 * Plain TypeScript: no `vscode`, no DOM, no onnxruntime import here.
 *
 * Model folders follow the Hugging Face / transformers.js ONNX layout:
 *   <id>/config.json            { "model_type": "bert" | "gpt2" | "elmo" | "nnlm" | "word2vec" | "glove" | ... }
 *   <id>/tokenizer.json         (transformer and word-level models)
 *   <id>/tokenizer_config.json
 *   <id>/onnx/model.onnx        (models that run; static vectors have none)
 *   <id>/vectors.bin + vocab.txt (static embeddings: float16 little-endian [vocab, dim])
 *   <id>/MODEL_CARD.md
 */

export type ModelKind = 'masked-lm' | 'causal-lm' | 'bilm' | 'nnlm' | 'static-vectors';

export interface ModelInfo {
  /** Folder name, unique across model directories (the first directory wins on a clash). */
  id: string;
  /** `model_type` from config.json. */
  modelType: string;
  kind: ModelKind;
  path: string;
  /** Graph input / output names of onnx/model.onnx (empty for static vectors). */
  inputs: string[];
  outputs: string[];
  /** Where it came from: a shipped model or a user folder. */
  source: 'shipped' | 'user';
}

/** One layer's vector for one word (ELMo: token layer, LSTM 1, LSTM 2). */
export interface LayerVector {
  layer: string;
  vector: number[];
}

export interface EmbedRequest {
  text: string;
  word: string;
  /** 1-based occurrence of `word` in `text` (default 1). */
  occurrence?: number;
  model?: string;
}

export interface EmbedResult {
  model: string;
  /** The tokens the model saw (after truncation around the word). */
  tokens: string[];
  /** Index of the word in `tokens`. */
  index: number;
  layers: LayerVector[];
  /** True when the text was cut to a window around the word. */
  truncated: boolean;
}

export type ErrorCode =
  | 'MODEL_NOT_FOUND'
  | 'MODEL_CORRUPT'
  | 'INPUT_TOO_LONG'
  | 'BAD_INPUT'
  | 'CANCELLED'
  | 'WORKER_CRASHED'
  | 'INTERNAL';
