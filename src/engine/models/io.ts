/**
 * Input and output adapters for transformer graphs made by any exporter: which graph input plays which part
 * (Hugging Face names, old Google BERT / Hugging Face names, tf2onnx's `:0` suffixes), in the integer type the
 * graph declares (keras2onnx / tf2onnx exports take int32, PyTorch exports int64), and which output holds the
 * language-model logits when it is not called `logits`. Pure TypeScript on declared names, types and shapes
 * (a session's, or an .onnx file's read by onnxSignature.ts); no ONNX Runtime here.
 */
import { LensError, badInput, modelCorrupt } from '../errors';
import type { TensorInfo } from '../onnxSignature';
import type { HostTensor } from '../runtime/session';

/** The parts a token input can play. */
export type TokenInput = 'input_ids' | 'attention_mask' | 'token_type_ids' | 'position_ids';

/** The names exporters give each part (compared without a tf2onnx `:0` suffix). */
export const INPUT_ALIASES: Readonly<Record<TokenInput, readonly string[]>> = {
  input_ids: ['input_ids', 'input_word_ids'],
  attention_mask: ['attention_mask', 'input_mask'],
  token_type_ids: ['token_type_ids', 'segment_ids', 'input_type_ids'],
  position_ids: ['position_ids'],
};

type IntType = 'int32' | 'int64';

export interface TokenInputs {
  /** Part -> the graph's input name. */
  names: Partial<Record<TokenInput, string>>;
  /** Graph input name -> the integer type it declares. */
  types: Readonly<Record<string, IntType>>;
  /** The sequence length when the export fixed it (input_ids [batch, 10]); undefined when it is free. */
  fixedLength: number | undefined;
  /** The graph's other inputs (past_key_values.*, use_cache_branch, or something unknown), for the caller to judge. */
  others: string[];
}

function baseName(name: string): string {
  return name.replace(/:\d+$/, '');
}

/** The part an input name plays, if any. */
export function tokenInputOf(name: string): TokenInput | undefined {
  const base = baseName(name);
  return (Object.keys(INPUT_ALIASES) as TokenInput[]).find((part) => INPUT_ALIASES[part].includes(base));
}

/**
 * Which graph input is which, from the declared names and types. MODEL_CORRUPT when there is no input_ids (or an
 * alias) or a token input is declared as something other than int32 / int64.
 */
export function tokenInputs(
  declared: { inputNames: readonly string[]; inputInfo: readonly TensorInfo[] },
  modelId: string,
): TokenInputs {
  const info = new Map(declared.inputInfo.map((i) => [i.name, i]));
  const names: Partial<Record<TokenInput, string>> = {};
  const types: Record<string, IntType> = {};
  const others: string[] = [];
  for (const name of declared.inputNames) {
    const part = tokenInputOf(name);
    if (!part || names[part]) {
      others.push(name);
      continue;
    }
    const type = info.get(name)?.type ?? 'int64'; // undeclared: the Hugging Face default
    if (type !== 'int64' && type !== 'int32') {
      throw modelCorrupt(`Model "${modelId}": input "${name}" is ${type}; LM Lens feeds token inputs as int64 or int32.`);
    }
    names[part] = name;
    types[name] = type;
  }
  const ids = names.input_ids;
  if (!ids) {
    const accepted = INPUT_ALIASES.input_ids.map((n) => `"${n}"`).join(' or ');
    throw modelCorrupt(`Model "${modelId}" has no token-id input (${accepted}; inputs: ${declared.inputNames.join(', ')}).`);
  }
  const length = info.get(ids)?.shape?.[1];
  return { names, types, fixedLength: typeof length === 'number' ? length : undefined, others };
}

/** An int32 or int64 tensor of `values`. */
export function intTensor(type: IntType, values: ArrayLike<number>, dims: readonly number[]): HostTensor {
  return type === 'int32'
    ? { type, data: Int32Array.from(values), dims }
    : { type, data: BigInt64Array.from(Array.from(values, (v) => BigInt(v))), dims };
}

function filledTensor(type: IntType, value: number, dims: readonly number[]): HostTensor {
  const size = dims.reduce((a, b) => a * b, 1);
  return type === 'int32'
    ? { type, data: new Int32Array(size).fill(value), dims }
    : { type, data: new BigInt64Array(size).fill(BigInt(value)), dims };
}

export interface TokenBatch {
  /** Row-major [batch, length] token ids. */
  ids: ArrayLike<number>;
  batch: number;
  length: number;
  /** Row-major [batch, pastLength + length] attention mask (default: all ones). */
  mask?: ArrayLike<number>;
  /** Tokens already in a key/value cache before these (default 0): positions and the mask start after them. */
  pastLength?: number;
}

/**
 * Feeds for the token inputs the graph declares (ids, mask, segment ids = 0, positions), each in its declared
 * type. BAD_INPUT when the export fixed the sequence length and this batch has another.
 */
export function tokenFeeds(inputs: TokenInputs, batch: TokenBatch, modelId: string): Record<string, HostTensor> {
  const { names, types } = inputs;
  const { batch: b, length: t, pastLength = 0 } = batch;
  if (inputs.fixedLength !== undefined && t !== inputs.fixedLength) {
    throw new LensError(
      t > inputs.fixedLength ? 'INPUT_TOO_LONG' : 'BAD_INPUT',
      `Model "${modelId}" was exported for exactly ${inputs.fixedLength} tokens at once (its sequence length is fixed ` +
        `in the graph); this text has ${t}. Export it again with a dynamic sequence axis to use it here.`,
    );
  }
  const feeds: Record<string, HostTensor> = {};
  const ids = names.input_ids!;
  feeds[ids] = intTensor(types[ids]!, batch.ids, [b, t]);
  if (names.attention_mask) {
    const name = names.attention_mask;
    const dims = [b, pastLength + t];
    feeds[name] = batch.mask ? intTensor(types[name]!, batch.mask, dims) : filledTensor(types[name]!, 1, dims);
  }
  if (names.token_type_ids) feeds[names.token_type_ids] = filledTensor(types[names.token_type_ids]!, 0, [b, t]);
  if (names.position_ids) {
    const positions = Array.from({ length: b * t }, (_, i) => pastLength + (i % t));
    feeds[names.position_ids] = intTensor(types[names.position_ids]!, positions, [b, t]);
  }
  return feeds;
}

/** Outputs that are rank 3 but never language-model logits. */
const NOT_LOGITS = /^(last_hidden_state|hidden_states(\.\d+)?|encoder_.*|attentions(\.\d+)?|present.*|last_state)$/;

/** Output names that hold a masked or causal LM's logits, in order of preference, before any other candidate. */
const LOGITS_NAMES = ['logits', 'prediction_scores', 'prediction_logits', 'lm_logits'];

/**
 * The output that holds the LM logits [batch, sequence, vocab]: `logits` (or an older name such as
 * `prediction_scores`) when it has rank 3, else the first float32 output of rank 3 that is not a hidden state and
 * whose last dimension is the vocabulary (`vocabSize`, when known and the dimension is fixed). Undefined when
 * there is none (a classifier's or question-answering head's outputs are [batch, labels] / [batch, sequence]).
 */
export function findLogitsOutput(outputs: readonly TensorInfo[], vocabSize?: number): string | undefined {
  const rank3 = (o: TensorInfo): boolean => (o.type === undefined || o.type === 'float32') && o.shape?.length === 3;
  for (const name of LOGITS_NAMES) {
    const output = outputs.find((o) => baseName(o.name) === name);
    // a name says what it is; only a shape that contradicts it counts (a config's vocab_size may be off)
    if (output && (output.shape === undefined || rank3(output))) return output.name;
  }
  const vocabulary = (o: TensorInfo): boolean => {
    const last = o.shape![2];
    return typeof last !== 'number' || vocabSize === undefined || last === vocabSize;
  };
  return outputs.find((o) => rank3(o) && !NOT_LOGITS.test(baseName(o.name)) && vocabulary(o))?.name;
}

/** "logits [batch, 2], hidden_states [batch, sequence, 4]": what a graph outputs, for messages. */
export function describeOutputs(outputs: readonly TensorInfo[]): string {
  return outputs
    .map((o) => (o.shape ? `${o.name} [${o.shape.map((d) => d ?? '?').join(', ')}]` : o.name))
    .join(', ');
}

/** BAD_INPUT for a model that has no LM logits output, naming what it has instead and what would work. */
export function noLogitsError(modelId: string, outputs: readonly TensorInfo[], task: string, head: string): LensError {
  return badInput(
    `Model "${modelId}" has no language-model logits output [batch, sequence, vocab] (its outputs: ` +
      `${describeOutputs(outputs)}), so it cannot ${task}. Use an export that includes the ${head}.`,
  );
}
