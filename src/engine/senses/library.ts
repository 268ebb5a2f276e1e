/**
 * The sense code the offline build (training/senses/build.mjs) and benchmarks use, through dist/engine.js.
 */
export { WordNet } from '../wordnet';
export { fitModelProjection, projectAll, KeyedSums, PROJECTED_DIMS } from './centroids';
export { modelFingerprint } from '../models/fingerprint';
export { loadTables, taggedExamples, splitOf, sensesKey } from './examples';
export { FEATURES, SIGNALS, SIGNAL_NAMES, candidateOf, featureVector, glossWords, hasEvidence, overlapCount, relatedSynsetIds, signatureWords, stem } from './features';
export { fit, probabilities, argmax, evidenceFor, logits, softmax, parseScorerFile, usesSignal, DEFAULT_WEIGHTS } from './scorer';
export { loadStaticVectors } from './staticVectors';
export { writeStore, loadStore, storeFiles } from './store';
export { contextWindow, contentWords, contentWordsOf } from './text';
export { cosine } from './vectorMath';
export { mostFrequent } from './sense';
export { defaultSenseLocations } from './service';
export { posFilter, wordnetPosOf, POS_FILTER_THRESHOLD } from './posFilter';
export { defaultTagger, isPosTagger } from '../tasks/tag/taggers';
export { parseSenseItems } from '../eval/items';
