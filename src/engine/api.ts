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

/**
 * What the engine does with a model. `encoder`: a BERT-family model without a masked-LM head (a classifier, a
 * question-answering model, a bare encoder): the attention view can show it, fill cannot use it.
 */
export type ModelKind = 'masked-lm' | 'causal-lm' | 'encoder' | 'bilm' | 'nnlm' | 'static-vectors' | 'tagger';

/**
 * A tagger's two forms (see tasks/tag/taggers.ts):
 *   `elmo-head`: a small model over a base ELMo's `hidden_states` (feature-based: the biLM frozen, a learned scalar
 *     mix of its layers); config.json `{"model_type": "lm-lens-tagger", "tagger": {"kind": "elmo-head", "base", ...}}`.
 *   `token-classifier`: a fine-tuned transformer exported by Hugging Face (`...ForTokenClassification`, `id2label`),
 *     one row of logits per word piece.
 */
export type TaggerForm = 'elmo-head' | 'token-classifier';

export interface TaggerInfo {
  form: TaggerForm;
  /** Tag names in logit order. */
  labels: string[];
  /** "universal" (NOUN, VERB, ...) when the config says so; undefined for other label sets (NER, Penn, ...). */
  tagSet?: string;
  /** elmo-head: the id of the ELMo whose hidden states it reads. */
  base?: string;
  /**
   * elmo-head: the fingerprint (models/fingerprint.ts) of the base's ONNX file it was trained on, when the config
   * records it; a tagger whose base has since been replaced is refused (its tags would read features it never saw).
   */
  baseFingerprint?: string;
  /** token-classifier: which word piece's logits tag the word (default first). */
  wordPiece?: 'first' | 'last';
  /** elmo-head: the learned layer weights s_j (softmax-normalised) and scale gamma, as the config reports them. */
  scalarMix?: { weights: number[]; gamma: number };
}

export interface ModelInfo {
  /** Folder name, unique across model directories (the first directory wins on a clash). */
  id: string;
  /** `model_type` from config.json. */
  modelType: string;
  kind: ModelKind;
  /** Why the kind is not the one `model_type` suggests (e.g. a BERT with a classification head is an `encoder`). */
  note?: string;
  path: string;
  /** Graph input / output names of onnx/model.onnx (empty for static vectors). */
  inputs: string[];
  outputs: string[];
  /** Where it came from: a shipped model or a user folder. */
  source: 'shipped' | 'user';
  /** Taggers: the form, the labels, and what they run on. */
  tagger?: TaggerInfo;
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
  /** Also tag the word with the best part-of-speech tagger installed, if any (an ELMo head reuses this ELMo run). */
  tag?: boolean;
}

/** A word's tag from a part-of-speech tagger (the hover's requests: `embed`, `sense`). */
export interface WordTagResult {
  model: string;
  tag: string;
  probability: number;
  /** True when it came from the request's own ELMo run (an ELMo-head tagger on the same ELMo). */
  sharedRun: boolean;
}

/** `[start, end)` of each token in the text a request sent, in UTF-16 code units. */
export type TokenOffsets = Array<[start: number, end: number]>;

export interface EmbedResult {
  model: string;
  /** The tokens the model saw (after truncation around the word). */
  tokens: string[];
  /** Index of the word in `tokens`. */
  index: number;
  /** Where each token is in the request's text: `[start, end)` in UTF-16 code units (what `String#slice` takes). */
  offsets: TokenOffsets;
  layers: LayerVector[];
  /** True when the text was cut to a window around the word. */
  truncated: boolean;
  /** The word's part of speech, when `tag` was asked and a tagger is installed. */
  tag?: WordTagResult;
}

export type ErrorCode =
  | 'MODEL_NOT_FOUND'
  | 'MODEL_CORRUPT'
  | 'INPUT_TOO_LONG'
  | 'BAD_INPUT'
  | 'CANCELLED'
  | 'WORKER_CRASHED'
  | 'INTERNAL'
  /** A model download could not reach the server (offline, refused, timed out, connection lost). */
  | 'NETWORK'
  /** A model download reached the server but failed (HTTP error, gated repo, integrity or size check). */
  | 'DOWNLOAD_FAILED';

/** `fill`: a masked LM's candidates for each `[MASK]` (or `<mask>`) marker in a text. */
export interface FillRequest {
  /** Text with one or more `[MASK]` or `<mask>` markers (the model's own mask token is used either way). */
  text: string;
  /** Candidates per mask, and combined sequences, to return (default 5, at most 50). */
  topK?: number;
  model?: string;
}

export interface FillPrediction {
  /** The candidate as it goes into the text ("dog"; a word piece without its "##"). */
  token: string;
  tokenId: number;
  /** Its probability at this mask. */
  score: number;
  /** The request text with this mask filled by `token` (other masks left as they are). */
  sequence: string;
}

export interface FillMask {
  /** 0-based number of the mask, left to right. */
  index: number;
  /** Where the marker is in the request text (UTF-16 offsets, end exclusive). */
  start: number;
  end: number;
  /** Best first; with several masks, given the others still masked. */
  predictions: FillPrediction[];
}

/** Every mask filled: one token per mask, chosen jointly left to right. */
export interface FillSequence {
  tokens: string[];
  tokenIds: number[];
  /** Joint probability: the product of each choice's probability given the choices to its left. */
  score: number;
  sequence: string;
}

export interface FillResult {
  model: string;
  masks: FillMask[];
  /** Best first. One mask: its predictions; several: a beam of `topK`, filled left to right. */
  sequences: FillSequence[];
  /** True when the text was cut to a window around the masks to fit the model. */
  truncated: boolean;
  /** Where the time went, in ms: `runMs` is the time inside ONNX Runtime's session.run. */
  timings: { tokenizeMs: number; runMs: number; totalMs: number };
}

/** `generate`: continues a text with a causal LM. */
export interface GenerateRequest {
  text: string;
  /** Tokens to generate at most (default 32, 1 to 1024); with `heal`, tokens that only re-write the healed text are not counted. */
  maxTokens?: number;
  /** 0 (default) is greedy, and so is anything below 1e-6; above that samples, flatter as it grows (at most 5). */
  temperature?: number;
  /** Sample from the k most likely tokens only (0 = no limit; default 0). */
  topK?: number;
  /** Sample from the smallest set of tokens whose probability reaches p (default 1 = no limit). */
  topP?: number;
  /** Sample only from tokens at least this fraction as likely as the most likely one (min-p; default 0 = no limit, below 1). */
  minP?: number;
  /** Seed of the sampling PRNG; the same seed and request give the same completion (default: random, returned). */
  seed?: number;
  /** Stop before the first of these strings (not included in the completion). */
  stop?: string[];
  /** Recompute the whole sequence for every token instead of reusing the key/value cache (for comparison). */
  noCache?: boolean;
  /** The end-of-text token is not chosen before this many tokens (default 0; benchmarks use maxTokens). */
  minTokens?: number;
  /**
   * Above 1, tokens already in the text (prompt and completion) become less likely: positive logits divided by
   * it, negative ones multiplied (CTRL's penalty, as transformers' `repetition_penalty`). Default 1: none; 1 to 2.
   */
  repetitionPenalty?: number;
  /**
   * Report each generated token's probability and where its text ends (`tokenProbs`, `tokenEnds`). Off by default:
   * it costs a pass over the vocabulary per token, about 15% of gpt2-mini's generation speed (test/bench/generation.mjs).
   */
  tokenProbs?: boolean;
  /**
   * Token healing: the text's last token (and the tokens before it that belong to the same word) is taken back and
   * the model writes it again, constrained to agree with it, so a text cut mid-word or after a typed space continues
   * as the model would tokenize it (see planHealing). The completion does not repeat the healed text; `healed` says
   * what it was. Default false.
   */
  heal?: boolean;
  model?: string;
}

/** Streamed while generating: text decoded since the last message. */
export interface GenerateProgress {
  text: string;
  /** Tokens generated so far. */
  tokens: number;
}

/** Why generation stopped. (The context window never stops it: the window slides, see generate.ts.) */
export type FinishReason = 'length' | 'stop' | 'eos';

export interface GenerateResult {
  model: string;
  completion: string;
  /** Tokens generated (the end-of-text token is not counted). */
  tokens: number;
  /** Generation time (prompt and every step; model loading excluded). */
  ms: number;
  tokensPerSecond: number;
  /** From the start of generation to the first generated token. */
  firstTokenMs: number;
  /** Prompt tokens the model saw (after truncation). */
  promptTokens: number;
  /** True when the prompt was cut from the left to fit the context window. */
  truncated: boolean;
  finishReason: FinishReason;
  /** Whether the key/value cache was used. */
  cache: boolean;
  /**
   * With `tokenProbs` asked for: the model's probability of each generated token (softmax of its logits, before the repetition penalty,
   * temperature or top-k/top-p: how sure the model itself was), one per counted token.
   */
  tokenProbs?: number[];
  /** Where each generated token's text ends in `completion` (characters; tokens past a stop string end at its start). */
  tokenEnds?: number[];
  /** With `heal`: the text taken back (a healed token's probability is its share among the tokens allowed then). */
  healed?: string;
  /**
   * With `heal`: how many of the first generated tokens only re-wrote the healed text (they add nothing to
   * `completion`; their probabilities say how the model would spell what was typed, not what it suggests).
   */
  healedTokens?: number;
  /** The sampling seed used (absent for greedy decoding). */
  seed?: number;
}

/** `score`: how surprising each token of a text is to a causal LM. */
export interface ScoreRequest {
  text: string;
  model?: string;
}

export interface ScoreResult {
  model: string;
  /** The text of each token (concatenated, they give the text back for byte-level tokenizers). */
  tokens: string[];
  /** Natural-log probability of each token given the ones before it. */
  tokenLogProbs: number[];
  /** Where each token is in the request text (UTF-16 offsets), or null where it could not be placed. */
  offsets: ([number, number] | null)[];
  /** exp(-mean log-probability). */
  perplexity: number;
  /** Context windows run (long texts are scored in overlapping windows). */
  windows: number;
}

/** Sent by `score` before each context window after the first (long texts). */
export interface ScoreProgress {
  /** Windows run so far. */
  windows: number;
  total: number;
}

/** `attention`: a transformer's attention weights over a text (BERT, GPT-2, or a downloaded model exposing them). */
export interface AttentionRequest {
  text: string;
  model?: string;
  /** UTF-16 offset in `text` kept in the window when the text has more tokens than it (default 0). */
  focus?: number;
  /** Most text tokens to run, special tokens excluded (default and ceiling: the model's positions, at most 512). */
  maxTokens?: number;
  /** Causal models: next-token candidates kept per position (default 5, 0 for none, at most 50). */
  topK?: number;
}

export interface TokenCandidate {
  token: string;
  id: number;
  probability: number;
}

export interface AttentionResult {
  model: string;
  kind: ModelKind;
  /** The tokens the model saw, special tokens included, as text (" bank", "##s", "[CLS]"). */
  tokens: string[];
  ids: number[];
  /** [start, end) UTF-16 offsets in the request text of the word each token came from; null for special tokens. */
  spans: ([number, number] | null)[];
  special: boolean[];
  layers: number;
  heads: number;
  /**
   * Attention weights, flat [layer][head][query][key] (layers x heads x tokens x tokens float32): each query's
   * row is a distribution over the keys (causal models: zero after the query).
   */
  attentions: Float32Array;
  /** Causal models: surprisal in bits of each token given the ones before it (null for the first). */
  surprisal?: (number | null)[];
  /** Causal models: the most likely next tokens after each position, best first. */
  next?: TokenCandidate[][];
  /** True when the text was cut to a window around the focus. */
  truncated: boolean;
}

/** `tag`: a tag (part of speech, or whatever a tagger's labels are) for every word of a text. */
export interface TagRequest {
  /** The text; with `words`, leave it out (the words joined by spaces are the text). */
  text?: string;
  /**
   * The words to tag, as given (an evaluation's gold tokens), instead of the text cut by the hover's word
   * splitter: the tagger sees them joined by single spaces. Words hold no whitespace.
   */
  words?: string[];
  /** A tagger's id (default: the best installed part-of-speech tagger, see DEFAULT_TAGGERS). */
  model?: string;
  /** Tags kept in each word's `top`, best first (default 3, at most the tagger's labels). */
  topK?: number;
}

export interface TagCandidate {
  tag: string;
  /** Softmax probability of the tag at this word. */
  p: number;
}

export interface TaggedWord {
  /** The word as the hover's word splitter cuts it (words.ts). */
  word: string;
  /** [start, end) UTF-16 offsets in the request text. */
  start: number;
  end: number;
  /** The most likely tag and its probability. */
  tag: string;
  probability: number;
  /** The `topK` most likely tags, best first. */
  top: TagCandidate[];
}

export interface TagResult {
  model: string;
  form: TaggerForm;
  /** "universal" for the shipped part-of-speech taggers. */
  tagSet?: string;
  words: TaggedWord[];
  /** Model runs made (a long text is tagged in windows; an ELMo head counts its ELMo run and its own). */
  runs: number;
}

/** `sense`: which WordNet sense a word has in its context (types in senses/types.ts). */
export * from './senses/types';

/** `eval`: scoreboards over files of minimal pairs, cloze lines, running text, tagged words or sense lines (types in eval/types.ts). */
export * from './eval/types';
