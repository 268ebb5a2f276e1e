/**
 * Which model folders are taggers, and what their config.json says (read by the model store when it scans; no
 * ONNX Runtime here). Two forms:
 *
 *   ELMo head (feature-based: the biLM frozen, a learned scalar mix of its layers and a small tagger on top):
 *     config.json  {"model_type": "lm-lens-tagger",
 *                   "tagger": {"kind": "elmo-head", "base": "elmo-mini", "tag_set": "universal",
 *                              "labels": ["NOUN", "VERB", ...], "scalar_mix": {"weights": [s0, s1, s2], "gamma": g},
 *                              "base_fingerprint": "<size>-<sha1 of the base ONNX's first and last 64 KiB>"}}
 *                  (base_fingerprint optional: with it, a tagger whose base ELMo was replaced is refused)
 *     onnx/model.onnx  input hidden_states float32 [layers, batch, seq, dim] (the base ELMo's output, <S> and </S>
 *                      rows included), output logits float32 [batch, seq, labels]
 *
 *   Token classifier (fine-tuned; any Hugging Face `...ForTokenClassification` export, POS or NER):
 *     config.json  {"architectures": ["BertForTokenClassification"], "id2label": {"0": "NOUN", ...},
 *                   "lm_lens": {"tag_set": "universal", "word_piece": "first" | "last"}}   (lm_lens optional)
 *     tokenizer.json, onnx/model.onnx  inputs like the base model's, output logits [batch, seq, labels] per piece
 */
import type { ModelInfo, TaggerInfo } from '../../api';
import { modelCorrupt } from '../../errors';
import { describeOutputs, tokenInputOf } from '../../models/io';
import type { TensorInfo } from '../../onnxSignature';

export const TAGGER_MODEL_TYPE = 'lm-lens-tagger';
/** The ELMo head's input: exactly the base ELMo's output. */
export const ELMO_HEAD_INPUT = 'hidden_states';
/** Optional second input of an ELMo head: the attention mask fed to its base ELMo, int64 (or int32) [batch, seq]. */
export const ELMO_HEAD_MASK = 'attention_mask';
export const TAGGER_LOGITS = 'logits';

/** The shipped part-of-speech taggers, best first (the default tagger is the first one installed). */
export const DEFAULT_TAGGERS = ['pos-elmo-mini', 'pos-bert-mini', 'pos-gpt2-mini'] as const;

const TOKEN_CLASSIFICATION = /ForTokenClassification$/;

function architecturesOf(config: Record<string, unknown>): string[] {
  const list = config['architectures'];
  return Array.isArray(list) ? list.filter((a): a is string => typeof a === 'string') : [];
}

/** True when config.json describes a tagger (either form); its kind is then `tagger` whatever its model_type. */
export function isTaggerConfig(config: Record<string, unknown>): boolean {
  return config['model_type'] === TAGGER_MODEL_TYPE || architecturesOf(config).some((a) => TOKEN_CLASSIFICATION.test(a));
}

/** Files a tagger needs besides config.json and onnx/model.onnx. */
export function taggerFiles(config: Record<string, unknown>): string[] {
  return config['model_type'] === TAGGER_MODEL_TYPE ? [] : ['tokenizer.json'];
}

function checkLabels(labels: unknown, where: string): string[] {
  if (!Array.isArray(labels) || labels.length === 0) throw modelCorrupt(`${where} must list the tags in logit order (got ${JSON.stringify(labels)}).`);
  const bad = labels.findIndex((l) => typeof l !== 'string' || l.trim() === '');
  if (bad >= 0) throw modelCorrupt(`${where}: tag ${bad} is ${JSON.stringify(labels[bad])}, not a name.`);
  const seen = new Set<string>();
  for (const label of labels as string[]) {
    if (seen.has(label)) throw modelCorrupt(`${where}: the tag "${label}" is listed twice.`);
    seen.add(label);
  }
  return labels as string[];
}

/** id2label {"0": "NOUN", "1": "VERB", ...} -> labels in logit order; every index from 0 to n-1 exactly once. */
function labelsFromId2Label(id2label: unknown, file: string): string[] {
  if (typeof id2label !== 'object' || id2label === null || Array.isArray(id2label)) {
    throw modelCorrupt(`${file}: a token classifier needs "id2label" ({"0": "NOUN", ...}); got ${JSON.stringify(id2label) ?? 'nothing'}.`);
  }
  const entries = Object.entries(id2label as Record<string, unknown>);
  const labels: unknown[] = new Array(entries.length);
  for (const [key, label] of entries) {
    const index = Number(key);
    if (!/^\d+$/.test(key) || index >= entries.length) {
      throw modelCorrupt(`${file}: id2label must number the tags 0 to ${entries.length - 1}; "${key}" is not one of them.`);
    }
    labels[index] = label;
  }
  return checkLabels(labels, `${file} id2label`);
}

function optionalString(value: unknown, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw modelCorrupt(`${what} must be a non-empty string.`);
  return value;
}

function scalarMixOf(value: unknown, file: string): TaggerInfo['scalarMix'] {
  if (value === undefined) return undefined;
  const { weights, gamma } = (value ?? {}) as { weights?: unknown; gamma?: unknown };
  if (!Array.isArray(weights) || !weights.every((w) => typeof w === 'number') || typeof gamma !== 'number') {
    throw modelCorrupt(`${file}: tagger.scalar_mix must be {"weights": [numbers], "gamma": number}.`);
  }
  return { weights: weights as number[], gamma };
}

/** The tagger's logits output: `logits` (or tf2onnx's `logits:0`); a tagger's contract names it. */
export function taggerLogitsName(outputs: readonly string[]): string | undefined {
  return outputs.find((name) => name.replace(/:\d+$/, '') === TAGGER_LOGITS);
}

/** MODEL_CORRUPT unless the graph outputs logits [batch, seq, labels] with as many labels as the config names. */
function checkLogits(outputs: readonly TensorInfo[], labels: number, folder: string): void {
  const name = taggerLogitsName(outputs.map((o) => o.name));
  const logits = outputs.find((o) => o.name === name);
  if (!logits || (logits.shape !== undefined && logits.shape.length !== 3)) {
    throw modelCorrupt(
      `${folder}: a tagger must output "logits" [batch, sequence, tags]; its outputs: ${describeOutputs(outputs)}.`,
    );
  }
  const last = logits.shape?.[2];
  if (typeof last === 'number' && last !== labels) {
    throw modelCorrupt(`${folder}: "${logits.name}" has ${last} tags per position but config.json names ${labels}.`);
  }
}

/** What a tagger folder's config.json and graph say; MODEL_CORRUPT with the reason when they do not fit together. */
export function taggerInfoOf(
  config: Record<string, unknown>,
  graph: { inputs: readonly string[]; outputInfo: readonly TensorInfo[] },
  folder: string,
): TaggerInfo {
  const file = `${folder}/config.json`;
  if (config['model_type'] === TAGGER_MODEL_TYPE) {
    const tagger = config['tagger'];
    if (typeof tagger !== 'object' || tagger === null) throw modelCorrupt(`${file}: an ${TAGGER_MODEL_TYPE} needs a "tagger" object.`);
    const t = tagger as Record<string, unknown>;
    if (t['kind'] !== 'elmo-head') throw modelCorrupt(`${file}: tagger.kind must be "elmo-head" (got ${JSON.stringify(t['kind'])}).`);
    const base = optionalString(t['base'], `${file}: tagger.base (the ELMo it reads)`);
    if (!base) throw modelCorrupt(`${file}: tagger.base must name the ELMo whose hidden states the head reads.`);
    const labels = checkLabels(t['labels'], `${file} tagger.labels`);
    if (!graph.inputs.includes(ELMO_HEAD_INPUT)) {
      throw modelCorrupt(`${folder}: an ELMo head must take "${ELMO_HEAD_INPUT}" (its inputs: ${graph.inputs.join(', ')}).`);
    }
    checkLogits(graph.outputInfo, labels.length, folder);
    const tagSet = optionalString(t['tag_set'], `${file}: tagger.tag_set`);
    const scalarMix = scalarMixOf(t['scalar_mix'], file);
    const baseFingerprint = optionalString(t['base_fingerprint'], `${file}: tagger.base_fingerprint (the base's file it was trained on)`);
    return {
      form: 'elmo-head',
      labels,
      base,
      ...(baseFingerprint ? { baseFingerprint } : {}),
      ...(tagSet ? { tagSet } : {}),
      ...(scalarMix ? { scalarMix } : {}),
    };
  }
  const labels = labelsFromId2Label(config['id2label'], file);
  if (!graph.inputs.some((name) => tokenInputOf(name) === 'input_ids')) {
    throw modelCorrupt(`${folder}: a token classifier needs a token-id input (its inputs: ${graph.inputs.join(', ')}).`);
  }
  checkLogits(graph.outputInfo, labels.length, folder);
  const own = (config['lm_lens'] ?? {}) as Record<string, unknown>;
  const tagSet = optionalString(own['tag_set'], `${file}: lm_lens.tag_set`);
  const wordPiece = own['word_piece'] ?? 'first';
  if (wordPiece !== 'first' && wordPiece !== 'last') {
    throw modelCorrupt(`${file}: lm_lens.word_piece must be "first" or "last" (got ${JSON.stringify(wordPiece)}).`);
  }
  return { form: 'token-classifier', labels, wordPiece, ...(tagSet ? { tagSet } : {}) };
}

/** A part-of-speech tagger in the universal tag set (what the sense filter understands). */
export function isPosTagger(model: ModelInfo): boolean {
  const t = model.tagger;
  return t !== undefined && (t.tagSet === 'universal' || (t.labels.includes('NOUN') && t.labels.includes('VERB')));
}

/**
 * The default tagger among `models`: the shipped part-of-speech taggers in DEFAULT_TAGGERS order, then any other
 * part-of-speech tagger (shipped first), then (when `posOnly` is false) any tagger.
 */
export function defaultTagger(models: readonly ModelInfo[], posOnly = false): ModelInfo | undefined {
  const taggers = models.filter((m) => m.kind === 'tagger');
  for (const id of DEFAULT_TAGGERS) {
    const named = taggers.find((m) => m.id === id);
    if (named) return named;
  }
  const pos = taggers.filter(isPosTagger);
  const found = pos.find((m) => m.source === 'shipped') ?? pos[0];
  if (found || posOnly) return found;
  return taggers.find((m) => m.source === 'shipped') ?? taggers[0];
}
