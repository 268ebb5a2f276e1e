/**
 * The tag of one word in its window, for the hover's requests (`sense`, `embed`), worker side. An ELMo head whose
 * base is the ELMo the request already ran reads that run's hidden states: one extra run, the head's, which is a
 * few small matrix products. Any other tagger runs on the window itself.
 */
import type { ModelInfo, WordTagResult } from '../../api';
import type { ElmoHidden } from '../../models/elmo';
import { badInput } from '../../errors';
import type { WorkerServices } from '../../runtime/context';
import type { Word } from '../../words';
import { elmoHeadProbabilities, elmoHeadTags, pieceWindowAround, tokenClassifier, tokenClassifierProbabilities, topTags } from './run';

export type WordTag = WordTagResult;

export interface WordTagRequest {
  tagger: ModelInfo;
  /** An ELMo head's base ELMo. */
  base?: ModelInfo;
  /** The request text and its words (offsets into `text`), cut to the window the models see. */
  text: string;
  words: readonly Word[];
  index: number;
}

/** The tag of `words[index]`; undefined when the tagger's tokenizer gives the word no piece. */
export async function tagWordAt(
  request: WordTagRequest,
  elmo: { model: ModelInfo; run: ElmoHidden } | undefined,
  services: WorkerServices,
  checkpoint: () => Promise<void>,
): Promise<WordTag | undefined> {
  const { tagger: model, words, index } = request;
  const tagger = model.tagger!;
  let probabilities: Float32Array | undefined;
  let sharedRun = false;
  await checkpoint();
  if (tagger.form === 'elmo-head') {
    const base = request.base;
    if (!base) throw badInput(`Tagger "${model.id}" has no base ELMo.`);
    if (elmo && elmo.model.id === base.id && elmo.run.words === words.length) {
      probabilities = (await elmoHeadProbabilities(await services.session(model), model, elmo.run))[index];
      sharedRun = true;
    } else {
      probabilities = (await elmoHeadTags(model, base, words.map((w) => w.text), services, checkpoint))[index];
    }
  } else {
    const classifier = await tokenClassifier(model, services);
    const counts = words.map((w) => classifier.pieces(request.text, w).length);
    const budget = classifier.maxPieces - classifier.prefix.length - classifier.suffix.length;
    const [from, to] = pieceWindowAround(counts, index, budget);
    probabilities = (await tokenClassifierProbabilities(classifier, request.text, words.slice(from, to)))[index - from];
  }
  if (!probabilities) return undefined;
  const [best] = topTags(tagger.labels, probabilities, 1);
  return { model: model.id, tag: best!.tag, probability: best!.p, sharedRun };
}
