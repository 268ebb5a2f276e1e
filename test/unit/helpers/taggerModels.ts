/**
 * Test helper: tiny taggers that ONNX Runtime really runs, with answers known by construction, written as model
 * folders at test time (like every fixture model here: helpers/onnxWriter.ts encodes the graphs, no binaries).
 *
 * ELMo head, over the hand-built ELMo of onnxWriter.ts (elmoLikeModel): that ELMo's token layer has, in column 1,
 * the (shifted) id of the word's first byte, so the head looks the word's first character up in a table:
 *   logits[b, t, :] = TABLE[hidden_states[0, b, t, 1]]        (one row of logits per byte value, 262 rows)
 * <S> and </S> rows (ids 257 and 258) get their own table rows, so a head that misplaced them would shift the tags.
 *
 * Token classifier, BertForTokenClassification layout: helpers/lmModels.ts's WordPiece tokenizer, and logits that
 * are a row of a table picked by each piece's id ("cats" is "cat" "##s": NOUN on the first piece, VERB on the last).
 */
import { ELMO_CONFIG, writeModelFolder } from './modelFolders';
import { BERT_VOCAB, wordPieceTokenizerJson } from './lmModels';
import { ELMO_DIM, FLOAT, INT64, encodeModel } from './onnxWriter';

/** The universal tag set in the contract's logit order. */
export const UNIVERSAL = ['NOUN', 'VERB', 'ADJ', 'ADV', 'PRON', 'DET', 'ADP', 'NUM', 'CONJ', 'PRT', '.', 'X'];

/** A confident logit: e^6 / (e^6 + 11) = 0.9735 against eleven zeros. */
export const SURE = 6;
export const SURE_P = Math.exp(SURE) / (Math.exp(SURE) + UNIVERSAL.length - 1);

const BYTE_ROWS = 262; // shifted byte ids 1..256, <S> 257, </S> 258, begin/end of word 259/260, padding 261

/** A table row: `logit` on `tag`, 0 elsewhere. */
export function oneHot(tag: string, logit = SURE, labels = UNIVERSAL): number[] {
  const row = new Array<number>(labels.length).fill(0);
  const at = labels.indexOf(tag);
  if (at < 0) throw new Error(`no tag ${tag}`);
  row[at] = logit;
  return row;
}

/**
 * The first-letter tagger: "the"/"a" DET, "we"/"you"/"it" PRON, "on"/"in"/"of" ADP, "sat"/"seeds" VERB, "." ".",
 * "quaint" ADJ but unsure (logit 1 against zeros: p = 0.198); every other word NOUN; <S> and </S> X.
 */
export function firstLetterRow(firstByte: number): number[] {
  const ch = String.fromCharCode(firstByte).toLowerCase();
  if (ch === 't' || ch === 'a') return oneHot('DET');
  if (ch === 'w' || ch === 'y' || ch === 'i') return oneHot('PRON');
  if (ch === 'o') return oneHot('ADP');
  if (ch === 's') return oneHot('VERB');
  if (ch === '.') return oneHot('.');
  if (ch === 'q') return oneHot('ADJ', 1);
  return oneHot('NOUN');
}

/** Every word `tag` (confidently); boundaries X. */
export const always = (tag: string, logit = SURE) => (): number[] => oneHot(tag, logit);

/** An ELMo head over elmoLikeModel: logits = table[first byte of the word] (see the file comment). */
export function elmoHeadModel(rowFor: (firstByte: number) => number[], labels = UNIVERSAL.length, inputDim: number | string = ELMO_DIM): Uint8Array {
  const table: number[] = [];
  for (let id = 0; id < BYTE_ROWS; id++) {
    // id is the shifted id (byte + 1); 257 / 258 are <S> / </S>
    const row = id === 257 || id === 258 || id === 0 ? oneHot('X', SURE, UNIVERSAL).slice(0, labels) : rowFor(id - 1);
    if (row.length !== labels) throw new Error(`row of ${row.length} logits, ${labels} labels`);
    table.push(...row);
  }
  return encodeModel({
    inputs: [{ name: 'hidden_states', elemType: FLOAT, dims: [3, 'batch', 'seq', inputDim] }],
    outputs: [{ name: 'logits', elemType: FLOAT, dims: ['batch', 'seq', labels] }],
    initializers: [
      { name: 'table', dims: [BYTE_ROWS, labels], float: table },
      { name: 'layer0', dims: [], int64: [0] },
      { name: 'one', dims: [1], int64: [1] },
      { name: 'two', dims: [1], int64: [2] },
      { name: 'axis2', dims: [1], int64: [2] },
    ],
    nodes: [
      { op: 'Gather', inputs: ['hidden_states', 'layer0'], outputs: ['h0'], attributes: [{ name: 'axis', i: 0 }] },
      { op: 'Slice', inputs: ['h0', 'one', 'two', 'axis2'], outputs: ['first_byte_f'] },
      { op: 'Squeeze', inputs: ['first_byte_f', 'axis2'], outputs: ['first_byte_sq'] },
      { op: 'Cast', inputs: ['first_byte_sq'], outputs: ['first_byte'], attributes: [{ name: 'to', i: INT64 }] },
      { op: 'Gather', inputs: ['table', 'first_byte'], outputs: ['logits'] },
    ],
    opset: 13,
  });
}

export function elmoHeadConfig(base: string, tagger: object = {}): object {
  return {
    model_type: 'lm-lens-tagger',
    tagger: {
      kind: 'elmo-head',
      base,
      tag_set: 'universal',
      labels: UNIVERSAL,
      scalar_mix: { weights: [0.2, 0.3, 0.5], gamma: 1.5 },
      ...tagger,
    },
    lm_lens: {
      inputs: { hidden_states: 'float32 [3, batch, seq, 4]', attention_mask: 'int64 [batch, seq]' },
      outputs: { logits: 'float32 [batch, seq, 12]' },
    },
  };
}

/** An ELMo-head tagger folder over the ELMo folder `base` (write that one with writeElmoFolder). */
export function writeElmoHead(dir: string, id: string, base: string, rowFor = firstLetterRow, tagger: object = {}): string {
  return writeModelFolder(dir, id, { config: elmoHeadConfig(base, tagger), onnx: elmoHeadModel(rowFor) });
}

/** The token classifier's labels (id2label order) and each vocabulary piece's tag. */
export const CLASSIFIER_LABELS = ['NOUN', 'VERB', 'DET', '.', 'X'];
const PIECE_TAGS: Record<string, [string, number]> = {
  the: ['DET', 5],
  a: ['DET', 4],
  dog: ['NOUN', 3],
  cat: ['NOUN', 2],
  '##s': ['VERB', 1],
  barked: ['VERB', 4],
  mailman: ['NOUN', 1],
  '.': ['.', 6],
};

/** Logits of piece `token` (X by default, e.g. [CLS], [SEP], "at"). */
export function pieceLogits(token: string): number[] {
  const [tag, logit] = PIECE_TAGS[token] ?? ['X', 2];
  return oneHot(tag, logit, CLASSIFIER_LABELS);
}

/** logits[b, t, :] = TABLE[input_ids[b, t]]; `labels` changes the declared width (a broken export). */
export function pieceTableModel(options: { declaredLabels?: number | string; output?: string; tokenTypeIds?: boolean } = {}): Uint8Array {
  const { declaredLabels = CLASSIFIER_LABELS.length, output = 'logits', tokenTypeIds = true } = options;
  const table = BERT_VOCAB.flatMap(pieceLogits);
  return encodeModel({
    inputs: [
      { name: 'input_ids', elemType: INT64, dims: ['batch', 'seq'] },
      { name: 'attention_mask', elemType: INT64, dims: ['batch', 'seq'] },
      ...(tokenTypeIds ? [{ name: 'token_type_ids', elemType: INT64, dims: ['batch', 'seq'] }] : []),
    ],
    outputs: [{ name: output, elemType: FLOAT, dims: ['batch', 'seq', declaredLabels] }],
    initializers: [{ name: 'table', dims: [BERT_VOCAB.length, CLASSIFIER_LABELS.length], float: table }],
    nodes: [{ op: 'Gather', inputs: ['table', 'input_ids'], outputs: [output] }],
  });
}

export function tokenClassifierConfig(extra: object = {}, labels: readonly string[] = CLASSIFIER_LABELS): Record<string, unknown> {
  return {
    model_type: 'bert',
    architectures: ['BertForTokenClassification'],
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
    max_position_embeddings: 32,
    vocab_size: BERT_VOCAB.length,
    lm_lens: { tag_set: 'universal' },
    ...extra,
  };
}

/** A BertForTokenClassification-layout folder (see the file comment). */
export function writeTokenClassifier(
  dir: string,
  id: string,
  config: Record<string, unknown> = tokenClassifierConfig(),
  onnx: Uint8Array = pieceTableModel(),
): string {
  return writeModelFolder(dir, id, {
    config,
    onnx,
    files: {
      'tokenizer.json': JSON.stringify(wordPieceTokenizerJson()),
      'tokenizer_config.json': JSON.stringify({ do_lower_case: true }),
    },
  });
}

export { ELMO_CONFIG };
