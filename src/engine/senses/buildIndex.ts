/**
 * Builds the sense vectors of one contextual model (worker side): embeds WordNet's tagged example sentences,
 * fits the projection, averages per synset, writes `<dir>/<model>.senses.{json,bin}`. Used for a model the
 * user downloads (cached in global storage, built on first use); the shipped models' vectors come from the
 * offline build (training/senses/build.mjs), which also evaluates.
 */
import type { ModelInfo } from '../api';
import { badInput } from '../errors';
import type { RequestContext, WorkerServices } from '../runtime/context';
import { modelFingerprint } from '../models/fingerprint';
import { fitModelProjection, KeyedSums, projectAll } from './centroids';
import { contextVectors } from './contextual';
import { loadTables, taggedExamples } from './examples';
import { wordnetFor, type SenseResources } from './sense';
import { forgetStore, writeStore } from './store';
import type { SenseIndexProgress, SenseIndexResult } from './types';

export interface BuildSenseIndexParams {
  model: ModelInfo;
  resources: SenseResources;
  /** Where to write (the cache folder). */
  outDir: string;
  /** Use at most this many example sentences (default: all ~28k). */
  limit?: number;
}

export async function buildSenseIndex(
  params: BuildSenseIndexParams,
  ctx: RequestContext<SenseIndexProgress>,
  services: WorkerServices,
): Promise<SenseIndexResult> {
  const started = performance.now();
  const { model } = params;
  if (model.kind !== 'bilm' && model.kind !== 'masked-lm') {
    throw badInput(`Model "${model.id}" (${model.kind}) has no contextual vectors; sense vectors need an ELMo or BERT model.`);
  }
  ctx.progress({ phase: 'examples', done: 0, total: 1 });
  const wordnet = await wordnetFor(params.resources);
  const examples = taggedExamples(wordnet, await loadTables(wordnet));
  const used = params.limit ? examples.slice(0, params.limit) : examples;
  ctx.progress({ phase: 'examples', done: 1, total: 1 });
  await ctx.checkpoint();

  const vectors = await contextVectors(
    model,
    used.map((e) => e.words),
    used.map((e) => [e.index]),
    services,
    () => ctx.checkpoint(),
    (done) => ctx.progress({ phase: 'embedding', done, total: used.length }),
  );
  ctx.progress({ phase: 'centroids', done: 0, total: 1 });
  await ctx.checkpoint();
  const L = vectors.layers.length;
  const projection = fitModelProjection(vectors.data, used.length, L, vectors.dim);
  const projected = projectAll(projection, vectors.data, used.length, L);
  const sums = new KeyedSums(L, projection.k);
  used.forEach((e, i) => sums.add(e.synsetId, projected, i));
  ctx.progress({ phase: 'writing', done: 0, total: 1 });
  const manifest = await writeStore(
    params.outDir,
    { model: model.id, modelType: model.modelType, fingerprint: await modelFingerprint(model), layers: vectors.layers, examples: used.length },
    projection,
    sums.means(),
    sums.counts,
  );
  forgetStore(params.outDir, model.id);
  ctx.progress({ phase: 'writing', done: 1, total: 1 });
  return {
    model: model.id,
    synsets: manifest.synsets.length,
    examples: used.length,
    path: params.outDir,
    ms: Math.round(performance.now() - started),
  };
}
