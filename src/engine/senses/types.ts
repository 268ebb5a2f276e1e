/**
 * The public types of the `sense` operation and of sense-vector builds (re-exported by api.ts).
 * Types only: no Node, vscode or ORT import (the webview project includes api.ts).
 */

/** `--layer`: pure nearest-sense lookup on one ELMo layer, or on the mean of the three. */
export type SenseLayer = 'token' | 'lstm1' | 'lstm2' | 'mean';

export const SENSE_LAYERS: readonly SenseLayer[] = ['token', 'lstm1', 'lstm2', 'mean'];

export interface SenseRequest {
  text: string;
  word: string;
  /** 1-based occurrence of `word` in `text` (default 1). */
  occurrence?: number;
  /** The contextual model: an ELMo (bilm) model replaces the default ELMo, a BERT-style one the default BERT. */
  model?: string;
  /** Forces nearest-sense lookup on one ELMo layer instead of the scorer. */
  layer?: SenseLayer;
  /** Also return per-layer details for the hover (neighbours, cosines). */
  details?: boolean;
  /** Scorer weights to use instead of media/senses/scorer.json (evaluation: one signal alone, ablations). */
  weights?: { features: readonly string[]; weights: readonly number[] };
  /**
   * The part-of-speech tagger (a `tagger` model with universal tags); default: the best one installed, if any. With
   * none installed, senses of every part of speech are scored (as before taggers existed).
   */
  tagger?: string;
  /** Score only the senses of the tagged part of speech when the tagger is sure (default true; false: tag only). */
  posFilter?: boolean;
  /** The tag probability from which the filter trusts the tag (default POS_FILTER_THRESHOLD, 0.9). */
  posThreshold?: number;
}

/** The word's part of speech as the tagger saw it, and what the sense filter did with it. */
export interface SenseTag {
  model: string;
  /** The tagger's label ("NOUN") and its probability. */
  tag: string;
  probability: number;
  /** The WordNet part of speech it names (n, v, a, r), if any. */
  wordnetPos?: string;
  /** True when only the senses of that part of speech were scored. */
  filtered: boolean;
  /** Why every part of speech was scored, when it was. */
  reason?: 'disabled' | 'unsure' | 'not-a-wordnet-pos' | 'no-senses-of-that-pos';
  /** True when the tag came from the same ELMo run as the sense's ELMo vectors (an ELMo-head tagger). */
  sharedRun: boolean;
}

export type SenseSignal = 'prior' | 'lesk' | 'glove' | 'elmo' | 'bert';

export interface SenseEvidence {
  signal: SenseSignal;
  /** How much the signal raised the chosen sense above the candidates' average score (logit units). */
  contribution: number;
}

export interface SenseCandidate {
  senseKey: string;
  lemma: string;
  /** n, v, a, r */
  pos: string;
  synset: string;
  gloss: string;
  /** Probability from the scorer (or the similarity, for nearest-sense lookup). */
  score: number;
  senseNumber: number;
  /** How often the sense was tagged in WordNet's semantic concordances (the most-frequent-sense prior). */
  tagCount: number;
  /** The synset's lemmas ("bank", "cant", "camber"). */
  words: string[];
}

export type SenseMethod = 'scorer' | 'nearest-sense' | 'most-frequent-sense';

export interface SenseLayerDetail {
  layer: string;
  /** Length of the word's vector in this layer. */
  norm: number;
  /** Cosine to the word's token-layer (context-free) vector. */
  cosToToken: number;
  /** Cosine to the word's mean vector in this layer over WordNet's example sentences (its usual sense), if known. */
  cosToUsual?: number;
  /** The nearest vocabulary words to the word's vector in this context (by their mean vectors in this layer). */
  neighbours: { word: string; cosine: number }[];
}

export interface SenseDetails {
  model: string;
  tokens: string[];
  index: number;
  /** Where each token is in the request's text, `[start, end)` in UTF-16 code units (api.ts' TokenOffsets). */
  offsets: Array<[start: number, end: number]>;
  layers: SenseLayerDetail[];
  /** Static embeddings' nearest neighbours of the word (no context), per static model. */
  staticNeighbours: { model: string; neighbours: { word: string; cosine: number }[] }[];
}

export interface SenseResult {
  word: string;
  lemma: string;
  pos: string;
  senseKey: string;
  synset: string;
  gloss: string;
  /** The chosen sense's probability (scorer) or cosine (nearest-sense). */
  score: number;
  /** Every candidate, best first. */
  candidates: SenseCandidate[];
  method: SenseMethod;
  /** Which signals decided, most decisive first (scorer only). */
  evidence: SenseEvidence[];
  /** The models whose signals were used. */
  models: { elmo?: string; bert?: string; glove?: string };
  /** Contextual models that have no sense vectors yet (build them with buildSenseIndex). */
  missingSenseVectors: string[];
  /** The part-of-speech tag used (absent when no tagger is installed). */
  tag?: SenseTag;
  details?: SenseDetails;
}

/** Progress of a sense-vector build. */
export interface SenseIndexProgress {
  phase: 'examples' | 'embedding' | 'centroids' | 'writing';
  done: number;
  total: number;
}

export interface SenseIndexResult {
  model: string;
  synsets: number;
  examples: number;
  /** Where the vectors were written. */
  path: string;
  ms: number;
}
