/**
 * The `embed` operation: checks and normalises a request (host side), and computes it (worker side) by
 * dispatching on the model's kind. Adding a contextual embedder for another kind (BERT, ...) means adding
 * one entry to EMBEDDERS.
 */
import type { EmbedRequest, EmbedResult, LayerVector, ModelInfo, ModelKind } from '../../api';
import { badInput } from '../../errors';
import { checkModelId, checkText } from '../requestChecks';
import { elmoHiddenStates, elmoLayersAt, parseElmoConfig, type ElmoHidden } from '../../models/elmo';
import type { RequestContext, WorkerServices } from '../../runtime/context';
import { tagWordAt } from '../tag/wordTag';
import { findWord, splitWords, wordWindow } from '../../words';

/** `embed`: the host has already resolved the model and checked the request. */
export interface EmbedParams {
  model: ModelInfo;
  text: string;
  word: string;
  occurrence: number;
  /** Also tag the word (the hover): a part-of-speech tagger, and an ELMo head's base ELMo. */
  tagger?: ModelInfo;
  taggerBase?: ModelInfo;
}

type Embedder = (
  model: ModelInfo,
  words: readonly string[],
  index: number,
  ctx: RequestContext,
  services: WorkerServices,
) => Promise<{ layers: LayerVector[]; elmoRun?: ElmoHidden }>;

const EMBEDDERS: Partial<Record<ModelKind, Embedder>> = {
  bilm: async (model, words, index, ctx, services) => {
    const config = parseElmoConfig(await services.config(model), model.path);
    const session = await services.session(model);
    const run = await elmoHiddenStates(session, config, words, () => ctx.checkpoint());
    return { layers: elmoLayersAt(run, config, index), elmoRun: run };
  },
};

/** Model kinds `embed` supports, the default's kind first. */
export const EMBED_KINDS = Object.keys(EMBEDDERS) as ModelKind[];

export interface CheckedEmbedRequest {
  text: string;
  word: string;
  occurrence: number;
  model: string | undefined;
  tag: boolean;
}

/** Host side: BAD_INPUT for a malformed request or a word that is not in the text. */
export function checkEmbedRequest(request: EmbedRequest): CheckedEmbedRequest {
  const { text, word, occurrence = 1, model, tag = false } = request;
  checkText(text);
  checkText(word, 'The word to look up');
  checkModelId(model);
  findWord(splitWords(text), word, occurrence);
  return { text, word, occurrence, model, tag: tag === true };
}

/** Worker side: the word's vector from every layer of `params.model`. */
export async function embed(params: EmbedParams, ctx: RequestContext, services: WorkerServices): Promise<EmbedResult> {
  const { model } = params;
  const embedder = EMBEDDERS[model.kind];
  if (!embedder) throw badInput(`Model "${model.id}" (${model.kind}) cannot embed words.`);

  // 1. words: find the target, keep a window around it
  const window = wordWindow(params.text, params.word, params.occurrence);
  const { tokens, index } = window;

  // 2-3. run the model, pick the word's vectors (and the word's tag, from the same ELMo run for an ELMo head)
  const { layers, elmoRun } = await embedder(model, tokens, index, ctx, services);
  const tag = params.tagger
    ? await tagWordAt(
        { tagger: params.tagger, ...(params.taggerBase ? { base: params.taggerBase } : {}), text: params.text, words: window.words, index },
        elmoRun ? { model, run: elmoRun } : undefined,
        services,
        () => ctx.checkpoint(),
      )
    : undefined;
  return { model: model.id, tokens, index, offsets: window.offsets, layers, truncated: window.truncated, ...(tag ? { tag } : {}) };
}
