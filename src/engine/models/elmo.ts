/**
 * The ELMo embedder (runs in the worker, on a session handed to it; it does not import ONNX Runtime).
 *
 * Model folder contract:
 *   config.json  { "model_type": "elmo", "max_characters_per_token": 50,
 *                  "layer_names": ["token", "lstm1", "lstm2"], "add_sentence_boundaries": true, ... }
 *   onnx/model.onnx  inputs  char_ids int64 [batch, seq, 50], attention_mask int64 [batch, seq]
 *                    output  hidden_states float32 [layers, batch, seq, dim]
 *
 * Three phases: words -> character ids (AllenNLP's ELMoCharacterMapper, exactly), run, pick the word's
 * vector out of every layer.
 */
import type { LayerVector } from '../api';
import { LensError, modelCorrupt } from '../errors';
import type { HostTensor, ModelSession } from '../runtime/session';

/** AllenNLP ELMoCharacterMapper's special character ids (before the +1 shift). */
export const ELMO_CHARS = {
  beginSentence: 256,
  endSentence: 257,
  beginWord: 258,
  endWord: 259,
  padding: 260,
} as const;

export const ELMO_INPUTS = { charIds: 'char_ids', attentionMask: 'attention_mask' } as const;
export const ELMO_OUTPUT = 'hidden_states';

export interface ElmoConfig {
  /** Characters per token including the begin/end-of-word markers (50 in every published ELMo). */
  maxCharacters: number;
  layerNames: string[];
  addSentenceBoundaries: boolean;
}

export function parseElmoConfig(config: Record<string, unknown>, folder: string): ElmoConfig {
  const maxCharacters = config['max_characters_per_token'] ?? 50;
  if (typeof maxCharacters !== 'number' || !Number.isInteger(maxCharacters) || maxCharacters < 3) {
    throw modelCorrupt(`${folder}/config.json: max_characters_per_token must be a whole number >= 3.`);
  }
  const layerNames = config['layer_names'] ?? ['token', 'lstm1', 'lstm2'];
  if (!Array.isArray(layerNames) || layerNames.length === 0 || !layerNames.every((n) => typeof n === 'string')) {
    throw modelCorrupt(`${folder}/config.json: layer_names must be a non-empty list of strings.`);
  }
  const addSentenceBoundaries = config['add_sentence_boundaries'] ?? true;
  if (typeof addSentenceBoundaries !== 'boolean') {
    throw modelCorrupt(`${folder}/config.json: add_sentence_boundaries must be true or false.`);
  }
  return { maxCharacters, layerNames: layerNames as string[], addSentenceBoundaries };
}

const encoder = new TextEncoder();

/**
 * A word's character ids, as ELMoCharacterMapper.convert_word_to_char_ids: the UTF-8 bytes, cut to
 * `maxCharacters - 2` bytes, wrapped in begin/end-of-word, padded, and every id +1 (0 is masking padding).
 */
export function elmoCharIds(word: string, maxCharacters = 50): number[] {
  const bytes = encoder.encode(word).subarray(0, maxCharacters - 2);
  const ids = new Array<number>(maxCharacters).fill(ELMO_CHARS.padding);
  ids[0] = ELMO_CHARS.beginWord;
  bytes.forEach((byte, k) => {
    ids[k + 1] = byte;
  });
  ids[bytes.length + 1] = ELMO_CHARS.endWord;
  return ids.map((id) => id + 1);
}

/** The character ids of the `<S>` / `</S>` sentence-boundary tokens (+1 shifted like every id). */
export function elmoBoundaryCharIds(which: 'begin' | 'end', maxCharacters = 50): number[] {
  const ids = new Array<number>(maxCharacters).fill(ELMO_CHARS.padding);
  ids[0] = ELMO_CHARS.beginWord;
  ids[1] = which === 'begin' ? ELMO_CHARS.beginSentence : ELMO_CHARS.endSentence;
  ids[2] = ELMO_CHARS.endWord;
  return ids.map((id) => id + 1);
}

/** The model's feeds for one sentence of words (batch 1), with boundaries when the config asks for them. */
export function elmoFeeds(words: readonly string[], config: ElmoConfig): Record<string, HostTensor> {
  const rows = words.map((w) => elmoCharIds(w, config.maxCharacters));
  if (config.addSentenceBoundaries) {
    rows.unshift(elmoBoundaryCharIds('begin', config.maxCharacters));
    rows.push(elmoBoundaryCharIds('end', config.maxCharacters));
  }
  const seq = rows.length;
  const charIds = new BigInt64Array(seq * config.maxCharacters);
  rows.forEach((row, i) => row.forEach((id, k) => (charIds[i * config.maxCharacters + k] = BigInt(id))));
  return {
    [ELMO_INPUTS.charIds]: { type: 'int64', data: charIds, dims: [1, seq, config.maxCharacters] },
    [ELMO_INPUTS.attentionMask]: { type: 'int64', data: new BigInt64Array(seq).fill(1n), dims: [1, seq] },
  };
}

/** The ELMo's hidden states for one sentence: float32 [layers, 1, seq, dim], with the boundary rows when the config adds them. */
export interface ElmoHidden {
  hidden: HostTensor & { type: 'float32' };
  /** Rows before the first word (1 with <S>, else 0). */
  offset: number;
  words: number;
}

/**
 * Runs the ELMo once over `words` (batch 1). Its `hidden_states` serve the embedder and, unchanged, an ELMo-head
 * tagger (tasks/tag), so a hover that needs both runs the biLM once.
 */
export async function elmoHiddenStates(
  session: ModelSession,
  config: ElmoConfig,
  words: readonly string[],
  checkpoint: () => Promise<void>,
): Promise<ElmoHidden> {
  for (const name of Object.values(ELMO_INPUTS)) {
    if (!session.inputNames.includes(name)) {
      throw modelCorrupt(`The ELMo model has no "${name}" input (inputs: ${session.inputNames.join(', ')}).`);
    }
  }
  if (!session.outputNames.includes(ELMO_OUTPUT)) {
    throw modelCorrupt(`The ELMo model has no "${ELMO_OUTPUT}" output (outputs: ${session.outputNames.join(', ')}).`);
  }
  const feeds = elmoFeeds(words, config);
  await checkpoint();
  const { [ELMO_OUTPUT]: hidden } = await session.run(feeds, [ELMO_OUTPUT]);

  const offset = config.addSentenceBoundaries ? 1 : 0;
  const seq = words.length + 2 * offset;
  if (!hidden || hidden.type !== 'float32' || hidden.dims.length !== 4 || hidden.dims[1] !== 1 || hidden.dims[2] !== seq) {
    const got = hidden ? `${hidden.type} [${hidden.dims.join(', ')}]` : 'nothing';
    throw modelCorrupt(`ELMo "${ELMO_OUTPUT}" must be float32 [layers, 1, ${seq}, dim]; got ${got}.`);
  }
  const layers = hidden.dims[0]!;
  if (layers !== config.layerNames.length) {
    throw modelCorrupt(`ELMo "${ELMO_OUTPUT}" has ${layers} layers but config.json names ${config.layerNames.length}.`);
  }
  return { hidden, offset, words: words.length };
}

/** Views of word `index`'s vector in every layer of an ELMo run (no copy). */
export function elmoLayerViews(run: ElmoHidden, index: number): Float32Array[] {
  if (index < 0 || index >= run.words) throw new LensError('INTERNAL', `word index ${index} out of range`);
  const [layers, , seq, dim] = run.hidden.dims as [number, number, number, number];
  return Array.from({ length: layers }, (_, l) => {
    const start = (l * seq + index + run.offset) * dim;
    return run.hidden.data.subarray(start, start + dim);
  });
}

/** Every layer's vector for word `index` out of an ELMo run. */
export function elmoLayersAt(run: ElmoHidden, config: ElmoConfig, index: number): LayerVector[] {
  const views = elmoLayerViews(run, index);
  return config.layerNames.map((layer, l) => ({ layer, vector: Array.from(views[l]!) }));
}

/** Every layer's vector for `words[index]`. `words` is already cut to the window the model may see. */
export async function elmoEmbed(
  session: ModelSession,
  config: ElmoConfig,
  words: readonly string[],
  index: number,
  checkpoint: () => Promise<void>,
): Promise<LayerVector[]> {
  const run = await elmoHiddenStates(session, config, words, checkpoint);
  return elmoLayersAt(run, config, index);
}
