/**
 * The `tag` operation: a tag and its probability for every word of a text (words as the hover splits them,
 * words.ts). Host side: the request check and the tagger's resolution; worker side: windows of words, a checkpoint
 * (cancel) before each window's runs, then the per-word decode.
 */
import type { ModelInfo, TaggedWord, TagRequest, TagResult } from '../../api';
import { badInput, LensError } from '../../errors';
import { checkModelId, checkText } from '../requestChecks';
import { cachedFingerprint } from '../../models/fingerprint';
import type { ModelStore } from '../../modelStore';
import type { RequestContext, WorkerServices } from '../../runtime/context';
import { MAX_WINDOW_WORDS, splitWords, type Word } from '../../words';
import { elmoHeadTags, pieceWindows, tokenClassifier, tokenClassifierProbabilities, topTags } from './run';
import { DEFAULT_TAGGERS, defaultTagger } from './taggers';

/** Longest text `tag` takes (characters): a tagger is for sentences and paragraphs, not whole books. */
export const MAX_TAG_CHARS = 100_000;
export const DEFAULT_TOP_K = 3;

/** `tag` in the worker: the checked request, the tagger and (an ELMo head's) base ELMo, resolved by the host. */
export interface TagParams {
  model: ModelInfo;
  base?: ModelInfo;
  text: string;
  /** Tag these words of `text` (given words) instead of the splitter's. */
  words?: Word[];
  topK: number;
}

export interface CheckedTagRequest {
  text: string;
  words: Word[] | undefined;
  model: string | undefined;
  topK: number;
}

export function checkTagRequest(request: TagRequest): CheckedTagRequest {
  const { model, topK = DEFAULT_TOP_K } = request;
  let text = request.text;
  let words: Word[] | undefined;
  if (request.words !== undefined) {
    if (text !== undefined) throw badInput('Give either the text or the words to tag, not both.');
    words = givenWords(request.words);
    text = request.words.join(' ');
  }
  checkText(text);
  if (text.length > MAX_TAG_CHARS) throw badInput(`The text has ${text.length} characters; tag takes at most ${MAX_TAG_CHARS}.`);
  if (!words && splitWords(text).length === 0) throw badInput('The text has no words.');
  checkModelId(model);
  if (!Number.isInteger(topK) || topK < 1) throw badInput(`topK must be a whole number from 1 up (got ${topK}).`);
  return { text, words, model, topK };
}

/** Given words (at least one, each a non-empty string without whitespace) with their offsets in the words joined by spaces. */
function givenWords(given: unknown): Word[] {
  if (!Array.isArray(given) || given.length === 0) throw badInput('The words to tag are missing: give a list of at least one word.');
  const words: Word[] = [];
  let at = 0;
  for (const [i, word] of given.entries()) {
    if (typeof word !== 'string' || word === '' || /\s/u.test(word)) {
      throw badInput(`Word ${i + 1} of the words to tag is ${typeof word === 'string' ? (word === '' ? 'empty' : 'not one word (it holds whitespace)') : 'not a string'}.`);
    }
    words.push({ text: word, start: at, end: at + word.length });
    at += word.length + 1;
  }
  return words;
}

/** The message when no tagger is installed: what to do next. */
export function noTaggerMessage(models: readonly ModelInfo[], posOnly: boolean): string {
  const what = posOnly ? 'part-of-speech tagger (universal tags)' : 'tagger';
  const others = models.filter((m) => m.kind === 'tagger').map((m) => m.id);
  return (
    `No ${what} is installed${others.length > 0 ? ` (taggers with other labels: ${others.join(', ')})` : ''}. ` +
    `LM Lens ships ${DEFAULT_TAGGERS.join(', ')} once they are trained (training/README.md puts them in media/models/); ` +
    'or add a Hugging Face token-classification ONNX export (config.json with "...ForTokenClassification" and ' +
    '"id2label", tokenizer.json, onnx/model.onnx) to a models folder, or with `lm-lens add-model OWNER/NAME`.'
  );
}

/**
 * The tagger a request names (BAD_INPUT when it is not a tagger), or the default one; with the base ELMo an ELMo
 * head reads (MODEL_NOT_FOUND naming it when it is missing; MODEL_CORRUPT when it is not the file the head was
 * trained on, as far as the head's config records it).
 */
export async function resolveTagger(
  models: ModelStore,
  id: string | undefined,
  posOnly = false,
): Promise<{ model: ModelInfo; base?: ModelInfo }> {
  let model: ModelInfo | undefined;
  if (id === undefined) {
    const all = await models.list();
    model = defaultTagger(all, posOnly);
    if (!model) throw new LensError('MODEL_NOT_FOUND', noTaggerMessage(all, posOnly));
  } else {
    model = await models.get(id);
    if (model.kind !== 'tagger') {
      throw badInput(`Model "${id}" is a ${model.kind} model; tag needs a tagger (an ELMo head or a ...ForTokenClassification export).${model.note ? ` ${model.note}` : ''}`);
    }
  }
  if (model.tagger?.form !== 'elmo-head') return { model };
  const baseId = model.tagger.base!;
  let base: ModelInfo;
  try {
    base = await models.get(baseId);
  } catch (error) {
    throw new LensError('MODEL_NOT_FOUND', `Tagger "${model.id}" reads the ELMo "${baseId}", which is not usable: ${(error as Error).message}`);
  }
  if (base.kind !== 'bilm') throw new LensError('MODEL_CORRUPT', `Tagger "${model.id}" names "${baseId}" as its base, a ${base.kind} model, not an ELMo.`);
  const expected = model.tagger.baseFingerprint;
  if (expected !== undefined) {
    const found = await cachedFingerprint(base);
    if (found !== expected) {
      throw new LensError(
        'MODEL_CORRUPT',
        `Tagger "${model.id}" was trained on another "${baseId}" (its config.json names the file ${expected}; the one ` +
          `installed is ${found}): its tags would be read off features it never saw. Retrain the tagger on this ` +
          `${baseId} (training/pos.py, see training/POS.md), or put back the ${baseId} it was trained on.`,
      );
    }
  }
  return { model, base };
}

function decode(model: ModelInfo, word: Word, probabilities: Float32Array, topK: number): TaggedWord {
  const top = topTags(model.tagger!.labels, probabilities, topK);
  return { word: word.text, start: word.start, end: word.end, tag: top[0]!.tag, probability: top[0]!.p, top };
}

/** Worker side. */
export async function tag(params: TagParams, ctx: RequestContext, services: WorkerServices): Promise<TagResult> {
  const { model, text, topK } = params;
  const tagger = model.tagger!;
  const words = params.words ?? splitWords(text);
  const out: TaggedWord[] = [];
  let runs = 0;
  if (tagger.form === 'elmo-head') {
    if (!params.base) throw new LensError('INTERNAL', `Tagger "${model.id}" has no base ELMo.`);
    for (let from = 0; from < words.length; from += MAX_WINDOW_WORDS) {
      const window = words.slice(from, from + MAX_WINDOW_WORDS);
      const probabilities = await elmoHeadTags(model, params.base, window.map((w) => w.text), services, () => ctx.checkpoint());
      runs += 2;
      window.forEach((w, i) => out.push(decode(model, w, probabilities[i]!, topK)));
    }
  } else {
    const classifier = await tokenClassifier(model, services);
    const budget = classifier.maxPieces - classifier.prefix.length - classifier.suffix.length;
    if (budget < 1) throw new LensError('MODEL_CORRUPT', `Tagger "${model.id}" has no room for text between its special tokens.`);
    const counts = words.map((w) => classifier.pieces(text, w).length);
    for (const [from, to] of pieceWindows(counts, budget)) {
      await ctx.checkpoint();
      const window = words.slice(from, to);
      const probabilities = await tokenClassifierProbabilities(classifier, text, window);
      runs += 1;
      window.forEach((w, i) => {
        const p = probabilities[i];
        if (p) out.push(decode(model, w, p, topK));
      });
    }
  }
  return { model: model.id, form: tagger.form, ...(tagger.tagSet ? { tagSet: tagger.tagSet } : {}), words: out, runs };
}
