/**
 * The public types of the `eval` scoreboards and of sentence log-likelihoods (re-exported by api.ts).
 * Types only: no Node, vscode or ORT import.
 */

/** How a model gives a sentence a log-likelihood. */
export type LikelihoodMethod =
  /** Causal LM: the sum of its tokens' log-probabilities, the first conditioned on the begin-of-text token. */
  | 'token-log-probs'
  /** Masked LM: pseudo-log-likelihood, each token masked in turn (Salazar et al. 2020). */
  | 'pseudo-log-likelihood'
  /**
   * Masked LM: pseudo-log-likelihood with each token masked together with the rest of its word to its right
   * (Kauf & Ivanova 2023, "PLL-word-l2r"): a word split into pieces is no longer scored from its own later pieces.
   */
  | 'pseudo-log-likelihood-within-word-l2r'
  /** NNLM: the sum of each word's log-probability given the n-1 words before it, padded with <S>. */
  | 'ngram-log-probs';

/**
 * A masked LM's pseudo-log-likelihood: `original` masks each token alone (Salazar et al. 2020, the BLiMP anchors'
 * metric); `within-word-l2r` also masks the pieces of the same word to its right (Kauf & Ivanova 2023).
 */
export type PllMetric = 'original' | 'within-word-l2r';

/** `logLikelihoods`: one log-likelihood per sentence (causal LM, masked LM or NNLM). */
export interface LogLikelihoodRequest {
  sentences: string[];
  model?: string;
  /** Masked LMs only (default `original`). */
  pll?: PllMetric;
}

export interface LogLikelihoodResult {
  model: string;
  method: LikelihoodMethod;
  /** Natural log, one per sentence, in request order. */
  logLikelihoods: number[];
  /** Tokens scored in each sentence. */
  tokens: number[];
  /**
   * Masked LMs: true when the sums came from a copy of the graph whose head runs at the masked positions only
   * (onnx/headGather.ts; checked against the whole graph on the first batch), false when from the whole graph.
   */
  headAtScoredPositions?: boolean;
}

/** Sent while sentences are scored (at most about twice a second, and once at the end). */
export interface LogLikelihoodProgress {
  sentences: number;
  total: number;
}

/** `evalPairs`, `evalCloze`, `evalPerplexity`: a file (pairs: or a folder of .jsonl files) and a model. */
export interface EvalFileRequest {
  file: string;
  model?: string;
}

/** `evalPairs`: a file or folder, a model, and for a masked LM which pseudo-log-likelihood (default `original`). */
export interface PairsEvalRequest extends EvalFileRequest {
  pll?: PllMetric;
}

/** How far an evaluation is: `done` of `total` in `unit` (pairs, items, windows). */
export interface EvalProgress {
  unit: 'pairs' | 'items' | 'windows' | 'sentences' | 'points';
  done: number;
  total: number;
}

export interface PairTally {
  pairs: number;
  /** Share of pairs (0 to 1) where the good sentence scored strictly higher. */
  accuracy: number;
}

/** Minimal pairs (BLiMP format): how often the model prefers the grammatical sentence. */
export interface PairsEvalResult {
  model: string;
  method: LikelihoodMethod;
  pairs: number;
  accuracy: number;
  /** Pairs whose two sentences scored the same (counted as failures). */
  ties: number;
  /** By `linguistics_term` (else `UID`, else the file's name). */
  byTerm: Record<string, PairTally>;
  /** By file (without .jsonl), when a folder was given. */
  byFile?: Record<string, PairTally>;
}

export interface ClozeMiss {
  /** 1-based line in the file. */
  line: number;
  sentence: string;
  answers: string[];
  /** The model's five best fills, best first. */
  predicted: string[];
}

/** Cloze lines: how often a masked LM's best fill (or one of its best five) is an accepted answer. */
export interface ClozeEvalResult {
  model: string;
  items: number;
  top1: number;
  top5: number;
  /** Items whose best fill was not an answer, in file order (at most 100). */
  misses: ClozeMiss[];
}

/** Running text: a causal LM's perplexity over the whole file (the `score` operation). */
export interface PerplexityEvalResult {
  model: string;
  /** Tokens scored. */
  tokens: number;
  perplexity: number;
  windows: number;
}

export interface TagTally {
  words: number;
  /** Share of these words (0 to 1) whose best tag is the gold one. */
  accuracy: number;
}

/** A gold tag the tagger mistook for another, and how often. */
export interface TagConfusion {
  gold: string;
  predicted: string;
  count: number;
}

/** Tagged sentences (`word<TAB>tag` lines): how often a tagger's best tag is the gold one. */
export interface TagsEvalResult {
  model: string;
  sentences: number;
  words: number;
  accuracy: number;
  /** By gold tag, the most frequent first. */
  byTag: Record<string, TagTally>;
  /** The most frequent mistakes (at most MAX_TAG_CONFUSIONS), gold -> predicted. */
  confusions: TagConfusion[];
  /** Gold tags that are not among the tagger's labels (a tag-set mismatch: those words count as wrong). */
  tagsNotInModel: string[];
}

/** `evalCompletion`: running text, and how ghost text is asked for at points in it. */
export interface CompletionEvalRequest extends EvalFileRequest {
  /** Words between two prompt points on a line (default 8). */
  every?: number;
  /** Tokens generated at each point (default: ghost text's 16). */
  maxTokens?: number;
  /** CTRL's repetition penalty (default: ghost text's 1.3). */
  repetitionPenalty?: number;
  /**
   * Where the cursor is: 'word-end' right after a word (default); 'after-space' after the space that follows it, as
   * when the writer pauses after typing it; 'mid-word' inside a word of 4+ characters, after its first half (the
   * rest of the word belongs to the reference).
   */
  cursor?: CompletionCursor;
  /**
   * How the prompt's end is treated: 'token' (default, as ghost text does) takes its last token back and lets the
   * model re-choose it (generate's `heal`); 'space' sends a typed space's prompt without it and shows only a
   * continuation that starts with a space; 'none' sends the text as typed.
   */
  healing?: CompletionHealing;
}

export type CompletionCursor = 'word-end' | 'after-space' | 'mid-word';
export type CompletionHealing = 'token' | 'space' | 'none';

/** Ghost text cut at one confidence threshold, over every point of the file. */
export interface CompletionThresholdTally {
  /** The cut: tokens the model gave less than this probability (and what follows) are not shown. */
  minTokenProbability: number;
  /** Share of points (0 to 1) where a suggestion is shown. */
  shown: number;
  /** Mean words (and punctuation marks) per shown suggestion. */
  words: number;
  /** Share of shown words that are right: the leading words that match what the text goes on with. */
  precision: number;
  /** Share of shown suggestions whose first word is right. */
  firstWord: number;
  /** Share of shown suggestions that are right as a whole (Tab would have typed what the writer typed). */
  whole: number;
  /** Right words per point, shown or not: what the writer is spared, on average. */
  rightWordsPerPoint: number;
}

/** One point of the file and the ghost text it got (before any cut). */
export interface CompletionSample {
  /** The end of the prompt (its last 40 characters). */
  promptEnd: string;
  completion: string;
  /** What the text goes on with (to the end of the line, at most 80 characters). */
  reference: string;
  tokenProbs: number[];
}

/** Ghost text against what the text really goes on with, at several confidence cuts (`lm-lens eval completion`). */
export interface CompletionEvalResult {
  model: string;
  /** Prompt points: every `every` words on each line, the rest of the line being the reference. */
  points: number;
  maxTokens: number;
  repetitionPenalty: number;
  cursor: CompletionCursor;
  healing: CompletionHealing;
  thresholds: CompletionThresholdTally[];
  /** The first points, to read. */
  samples: CompletionSample[];
}

/** `evalSenses`: a sense file, and what `sense` takes besides the sentence. */
export interface SensesEvalRequest extends EvalFileRequest {
  /** Score every part of speech's senses instead of the tagged one's (default: filter, as the hover does). */
  posFilter?: boolean;
}

/** A sense item the scorer got wrong. */
export interface SenseMiss {
  /** 1-based line in the file. */
  line: number;
  word: string;
  sentence: string;
  gold: string;
  predicted: string;
  predictedGloss: string;
  /** 1-based rank of the gold key among the candidates; null when it was not a candidate. */
  goldRank: number | null;
}

/** Sense lines (`word<TAB>sense key<TAB>sentence`): how often `sense` picks the gold WordNet sense. */
export interface SensesEvalResult {
  /** The models whose signals the scorer used (as `sense` reports them). */
  models: { elmo?: string; bert?: string; glove?: string };
  /** Contextual models without sense vectors, so left out of the scoring (build them with `senses build`). */
  missingSenseVectors: string[];
  /** The part-of-speech tagger that filtered the candidates, if any. */
  tagger?: string;
  items: number;
  accuracy: number;
  /** By the gold key's WordNet part of speech: n, v, a (satellites included), r. */
  byPos: Record<string, { items: number; accuracy: number }>;
  /** Gold keys not among the candidates at all (always a miss). */
  goldNotCandidate: number;
  /** Every miss, in file order. */
  misses: SenseMiss[];
}
