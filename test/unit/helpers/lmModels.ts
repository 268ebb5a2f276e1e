/**
 * Test helper: tiny masked and causal language models that ONNX Runtime really runs, with known answers,
 * written as model folders (config.json, tokenizer.json, onnx/model.onnx) at test time.
 *
 * Causal ("counting") model, GPT-2 layout: a byte-level tokenizer (token id = byte value, 256 =
 * <|endoftext|>, no merges) and a graph whose next token is the character `48 + n` ('0' + n) where n is
 * the number of tokens it has seen, counted through its key/value cache (present = past ++ new). So greedy
 * generation after a 2-token prompt gives "23456…", and a cache that lost its past would repeat a digit.
 * (Printable ASCII up to n = 78.)
 *   logits_j = 2j(48 + n) - j^2   (a parabola peaking at j = 48 + n; neighbours 1 lower, so sampling varies)
 *
 * Masked ("left neighbour") model, BERT layout: a WordPiece tokenizer; the logits at each position are a
 * row of a table picked by the token to its left ("the" -> dog 3, cat 2, mailman 1; "dog" -> barked 3).
 */
import { FLOAT, INT32, INT64, encodeModel, type Initializer, type Node, type ValueInfo } from './onnxWriter';
import { writeModelFolder } from './modelFolders';

/** GPT-2's byte -> printable character table (bytes_to_unicode). */
function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const table: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(printable.includes(b) ? b : 256 + extra++);
  return table;
}

export const EOT = 256;
/** The counting model writes the character COUNT_BASE + n after n tokens. */
export const COUNT_BASE = 48;
export const CAUSAL_VOCAB = 257;

/**
 * The byte-level tokenizer; `merged` adds multi-byte tokens (BPE merges of two pieces, "H i") in place of the bytes
 * whose ids they take (the graph's vocabulary stays 257), e.g. { 'H i': 90 } makes id 90 "Hi" instead of "Z".
 */
export function byteLevelTokenizerJson(merged: Record<string, number> = {}): object {
  const vocab: Record<string, number> = {};
  const table = bytesToUnicode();
  table.forEach((ch, b) => (vocab[ch] = b));
  for (const [merge, id] of Object.entries(merged)) {
    delete vocab[table[id]!];
    vocab[merge.replace(' ', '')] = id;
  }
  vocab['<|endoftext|>'] = EOT;
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      { id: EOT, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true },
    ],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges: Object.keys(merged),
    },
  };
}

export interface CausalModelOptions {
  /** Declare past_key_values.0.* inputs and present.0.* outputs (default true). */
  withPast?: boolean;
  /** Declare a `use_cache_branch` bool input like merged decoders (default false). */
  useCacheBranch?: boolean;
  /** Add an initializer no node uses: ONNX Runtime logs a warning when it loads the graph (default false). */
  unusedInitializer?: boolean;
}

/** The counting causal LM (see the file comment). Head count 1, head width 2. */
export function countingCausalModel(options: CausalModelOptions = {}): Uint8Array {
  const { withPast = true, useCacheBranch = false, unusedInitializer = false } = options;
  const w: number[] = [];
  const bias: number[] = [];
  // row 0 of W multiplies the count n, row 1 the constant 0 (unused); bias holds the rest of the parabola
  for (let j = 0; j < CAUSAL_VOCAB; j++) w.push(j === EOT ? 0 : 2 * j);
  for (let j = 0; j < CAUSAL_VOCAB; j++) w.push(0);
  for (let j = 0; j < CAUSAL_VOCAB; j++) bias.push(j === EOT ? -1e4 : 2 * COUNT_BASE * j - j * j);
  const embedding: number[] = [];
  for (let id = 0; id < CAUSAL_VOCAB; id++) embedding.push(1, 0);

  const inputs: ValueInfo[] = [
    { name: 'input_ids', elemType: INT64, dims: ['batch', 'seq'] },
    { name: 'attention_mask', elemType: INT64, dims: ['batch', 'total'] },
    { name: 'position_ids', elemType: INT64, dims: ['batch', 'seq'] },
  ];
  const outputs: ValueInfo[] = [{ name: 'logits', elemType: FLOAT, dims: ['batch', 'seq', CAUSAL_VOCAB] }];
  const nodes: Node[] = [
    { op: 'Gather', inputs: ['E', 'input_ids'], outputs: ['emb'] },
    { op: 'Unsqueeze', inputs: ['emb', 'axis1'], outputs: ['k'] },
  ];
  if (withPast) {
    for (const kv of ['key', 'value']) {
      inputs.push({ name: `past_key_values.0.${kv}`, elemType: FLOAT, dims: ['batch', 1, 'past', 2] });
      outputs.push({ name: `present.0.${kv}`, elemType: FLOAT, dims: ['batch', 1, 'total', 2] });
      nodes.push({ op: 'Concat', inputs: [`past_key_values.0.${kv}`, 'k'], outputs: [`present.0.${kv}`], attributes: [{ name: 'axis', i: 2 }] });
    }
  }
  if (useCacheBranch) inputs.push({ name: 'use_cache_branch', elemType: 9, dims: [1] });
  const all = withPast ? 'present.0.key' : 'k';
  nodes.push(
    { op: 'CumSum', inputs: [all, 'axis2'], outputs: ['counts'] },
    // keep the last T positions: Slice(counts, starts=[-T], ends=[big], axes=[2])
    { op: 'Shape', inputs: ['input_ids'], outputs: ['ids_shape'] },
    { op: 'Gather', inputs: ['ids_shape', 'one'], outputs: ['t'] },
    { op: 'Neg', inputs: ['t'], outputs: ['minus_t'] },
    { op: 'Slice', inputs: ['counts', 'minus_t', 'big', 'axis2'], outputs: ['last'] },
    { op: 'Squeeze', inputs: ['last', 'axis1'], outputs: ['h'] },
    { op: 'MatMul', inputs: ['h', 'W'], outputs: ['scores'] },
    { op: 'Add', inputs: ['scores', 'bias'], outputs: ['logits'] },
  );
  const initializers: Initializer[] = [
    { name: 'E', dims: [CAUSAL_VOCAB, 2], float: embedding },
    { name: 'W', dims: [2, CAUSAL_VOCAB], float: w },
    { name: 'bias', dims: [CAUSAL_VOCAB], float: bias },
    { name: 'axis1', dims: [1], int64: [1] },
    { name: 'axis2', dims: [1], int64: [2] },
    { name: 'one', dims: [1], int64: [1] },
    { name: 'big', dims: [1], int64: [1_000_000] },
  ];
  if (unusedInitializer) initializers.push({ name: 'unused', dims: [1], float: [0] });
  return encodeModel({ inputs, outputs, nodes, initializers, opset: 14 });
}

/** The counting model's next token after seeing `n` tokens, as its logits say. */
export function countingLogits(n: number): number[] {
  return Array.from({ length: CAUSAL_VOCAB }, (_, j) => (j === EOT ? -1e4 : 2 * j * (COUNT_BASE + n) - j * j));
}

export function writeCountingGpt2(dir: string, id: string, config: object = {}, options: CausalModelOptions & { merged?: Record<string, number> } = {}): string {
  return writeModelFolder(dir, id, {
    config: { model_type: 'gpt2', n_layer: 1, n_head: 1, n_embd: 2, n_positions: 64, bos_token_id: EOT, eos_token_id: EOT, ...config },
    onnx: countingCausalModel(options),
    files: {
      'tokenizer.json': JSON.stringify(byteLevelTokenizerJson(options.merged)),
      'tokenizer_config.json': JSON.stringify({ tokenizer_class: 'GPT2Tokenizer', eos_token: '<|endoftext|>' }),
    },
  });
}

export const BERT_VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'dog', 'cat', 'barked', 'at', 'mailman', '.', 'a', '##s'];
const id = (token: string): number => BERT_VOCAB.indexOf(token);

/** What the masked model predicts after each left neighbour: token -> { candidate: logit }. */
const NEXT: Record<string, Record<string, number>> = {
  the: { dog: 3, cat: 2, mailman: 1 },
  dog: { barked: 3 },
  cat: { barked: 2, '##s': 1 },
  barked: { at: 3 },
  at: { the: 3 },
  mailman: { '.': 3 },
  '[MASK]': { cat: 1, dog: 0.5 },
};

/** The masked model's tokenizer.json; `maskToken` names its mask (BERT's [MASK], or a RoBERTa-style <mask>). */
export function wordPieceTokenizerJson(maskToken = '[MASK]'): object {
  return wordPieceJson({
    vocab: BERT_VOCAB.map((t) => (t === '[MASK]' ? maskToken : t)),
    special: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', maskToken],
    lstrip: maskToken,
  });
}

export interface WordPieceSpec {
  /** The tokens in id order; it has [UNK], [CLS] and [SEP]. */
  vocab: readonly string[];
  /** The added (special) tokens, in the order listed. */
  special: readonly string[];
  /** Default: BERT's (BertNormalizer, lower case). */
  normalizer?: object;
  /** Default: BertPreTokenizer. */
  preTokenizer?: object;
  /** The added token that takes the space before it (a mask token), if any. */
  lstrip?: string;
}

/** A tiny WordPiece tokenizer.json in the Hugging Face format, with BERT's template: [CLS] text [SEP]. */
export function wordPieceJson(spec: WordPieceSpec): object {
  const { vocab, special, lstrip } = spec;
  const idOf = (token: string): number => vocab.indexOf(token);
  const added = (content: string) => ({ id: idOf(content), content, single_word: false, lstrip: lstrip === content, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: special.map(added),
    normalizer: spec.normalizer ?? { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: spec.preTokenizer ?? { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [idOf('[CLS]')], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [idOf('[SEP]')], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
    },
  };
}

/** NEXT as a [vocab, vocab] logit table, row = the left neighbour. */
function leftNeighbourTable(): number[] {
  const v = BERT_VOCAB.length;
  const table = new Array<number>(v * v).fill(0);
  for (const [left, row] of Object.entries(NEXT)) {
    for (const [token, logit] of Object.entries(row)) table[id(left) * v + id(token)] = logit;
  }
  return table;
}

/** How an exporter named and typed the graph's inputs and output. */
export interface ExporterStyle {
  /** int32 token inputs, like keras2onnx / tf2onnx. */
  int32?: boolean;
  /** input_mask, segment_ids and prediction_scores, like old Hugging Face and Google BERT exports. */
  oldNames?: boolean;
}

/** The left-neighbour masked LM; `tokenTypeIds: false` drops that input, like DistilBERT. */
export function leftNeighbourMaskedModel(tokenTypeIds = true, style: ExporterStyle = {}): Uint8Array {
  const v = BERT_VOCAB.length;
  const table = leftNeighbourTable();
  const type = style.int32 ? INT32 : INT64;
  const inputs: ValueInfo[] = [
    { name: 'input_ids', elemType: type, dims: ['batch', 'seq'] },
    { name: style.oldNames ? 'input_mask' : 'attention_mask', elemType: type, dims: ['batch', 'seq'] },
  ];
  if (tokenTypeIds) inputs.push({ name: style.oldNames ? 'segment_ids' : 'token_type_ids', elemType: type, dims: ['batch', 'seq'] });
  const logits = style.oldNames ? 'prediction_scores' : 'logits';
  const ids = style.int32 ? 'ids64' : 'input_ids';
  return encodeModel({
    inputs,
    outputs: [{ name: logits, elemType: FLOAT, dims: ['batch', 'seq', v] }],
    initializers: [
      { name: 'table', dims: [v, v], float: table },
      { name: 'zero', dims: [1], int64: [0] },
      { name: 'one', dims: [1], int64: [1] },
      { name: 'minus_one', dims: [1], int64: [-1] },
      { name: 'zero_scalar', dims: [], int64: [0] },
    ],
    nodes: [
      ...(style.int32 ? [{ op: 'Cast', inputs: ['input_ids'], outputs: [ids], attributes: [{ name: 'to', i: INT64 }] }] : []),
      { op: 'Slice', inputs: [ids, 'zero', 'one', 'one'], outputs: ['first'] },
      { op: 'Mul', inputs: ['first', 'zero_scalar'], outputs: ['pad'] },
      { op: 'Slice', inputs: [ids, 'zero', 'minus_one', 'one'], outputs: ['rest'] },
      { op: 'Concat', inputs: ['pad', 'rest'], outputs: ['left'], attributes: [{ name: 'axis', i: 1 }] },
      { op: 'Gather', inputs: ['table', 'left'], outputs: [logits] },
    ],
  });
}

export function writeLeftNeighbourBert(
  dir: string,
  name: string,
  options: { modelType?: string; maskToken?: string; tokenTypeIds?: boolean; maxPositions?: number; style?: ExporterStyle } = {},
): string {
  const { modelType = 'bert', maskToken = '[MASK]', tokenTypeIds = true, maxPositions = 32, style = {} } = options;
  return writeModelFolder(dir, name, {
    config: { model_type: modelType, max_position_embeddings: maxPositions, vocab_size: BERT_VOCAB.length },
    onnx: leftNeighbourMaskedModel(tokenTypeIds, style),
    files: {
      'tokenizer.json': JSON.stringify(wordPieceTokenizerJson(maskToken)),
      'tokenizer_config.json': JSON.stringify({ mask_token: maskToken, do_lower_case: true }),
    },
  });
}

/**
 * The left-neighbour masked LM with a deliberately slow side chain, for cancelling a long `session.run`:
 * X_0 = I * sum(input_ids), X_{i+1} = X_i @ I (`steps` MatMuls of size x size), and the logits get
 * sum(X_steps) * 0 added, so the answers stay the left-neighbour model's. The chain depends on the input, so
 * ONNX Runtime cannot fold it away when it loads the model; one shared weight keeps the file small. The I that
 * the MatMuls take is computed at run time (I * (s / s)): a constant one would be pre-packed by every MatMul
 * node when the session loads (seconds of CPU and size^2 floats per node), and a cancel would land in the load.
 */
export function slowLeftNeighbourMaskedModel(steps: number, size: number): Uint8Array {
  const v = BERT_VOCAB.length;
  const table = leftNeighbourTable();
  const identity = new Array<number>(size * size).fill(0);
  for (let i = 0; i < size; i++) identity[i * size + i] = 1;
  const chain: Node[] = [
    { op: 'Cast', inputs: ['input_ids'], outputs: ['ids_f'], attributes: [{ name: 'to', i: FLOAT }] },
    { op: 'ReduceSum', inputs: ['ids_f'], outputs: ['seed'], attributes: [{ name: 'keepdims', i: 0 }] },
    { op: 'Mul', inputs: ['I', 'seed'], outputs: ['x0'] },
    { op: 'Div', inputs: ['seed', 'seed'], outputs: ['unit'] },
    { op: 'Mul', inputs: ['I', 'unit'], outputs: ['I_run'] },
  ];
  for (let i = 0; i < steps; i++) chain.push({ op: 'MatMul', inputs: [`x${i}`, 'I_run'], outputs: [`x${i + 1}`] });
  chain.push(
    { op: 'ReduceSum', inputs: [`x${steps}`], outputs: ['total'], attributes: [{ name: 'keepdims', i: 0 }] },
    { op: 'Mul', inputs: ['total', 'zero_f'], outputs: ['nothing'] },
  );
  return encodeModel({
    inputs: [
      { name: 'input_ids', elemType: INT64, dims: ['batch', 'seq'] },
      { name: 'attention_mask', elemType: INT64, dims: ['batch', 'seq'] },
      { name: 'token_type_ids', elemType: INT64, dims: ['batch', 'seq'] },
    ],
    outputs: [{ name: 'logits', elemType: FLOAT, dims: ['batch', 'seq', v] }],
    initializers: [
      { name: 'table', dims: [v, v], float: table },
      { name: 'I', dims: [size, size], float: identity },
      { name: 'zero_f', dims: [], float: [0] },
      { name: 'zero', dims: [1], int64: [0] },
      { name: 'one', dims: [1], int64: [1] },
      { name: 'minus_one', dims: [1], int64: [-1] },
      { name: 'zero_scalar', dims: [], int64: [0] },
    ],
    nodes: [
      ...chain,
      { op: 'Slice', inputs: ['input_ids', 'zero', 'one', 'one'], outputs: ['first'] },
      { op: 'Mul', inputs: ['first', 'zero_scalar'], outputs: ['pad'] },
      { op: 'Slice', inputs: ['input_ids', 'zero', 'minus_one', 'one'], outputs: ['rest'] },
      { op: 'Concat', inputs: ['pad', 'rest'], outputs: ['left'], attributes: [{ name: 'axis', i: 1 }] },
      { op: 'Gather', inputs: ['table', 'left'], outputs: ['fast_logits'] },
      { op: 'Add', inputs: ['fast_logits', 'nothing'], outputs: ['logits'] },
    ],
  });
}

/** A model folder with the slow masked LM (see slowLeftNeighbourMaskedModel). */
export function writeSlowBert(dir: string, name: string, steps: number, size = 512): string {
  return writeModelFolder(dir, name, {
    config: { model_type: 'bert', max_position_embeddings: 32, vocab_size: BERT_VOCAB.length },
    onnx: slowLeftNeighbourMaskedModel(steps, size),
    files: {
      'tokenizer.json': JSON.stringify(wordPieceTokenizerJson()),
      'tokenizer_config.json': JSON.stringify({ mask_token: '[MASK]', do_lower_case: true }),
    },
  });
}
