/**
 * Messages between the attention view (webview/attention) and its host (src/features/attention).
 * The host sends a summary of each run (tokens, sizes, surprisal: no weights); the webview asks for the weights
 * it draws, one layer's chosen heads or the pooled thumbnails, tagged with the summary's `version` so a late
 * answer for an older text is recognised and dropped.
 */
import { notificationType, requestType } from './rpc';

export type AttentionViewMode = 'head' | 'model' | 'matrix';

export interface AttentionModelChoice {
  id: string;
  /** 'masked-lm' (BERT-style: every token sees every token) or 'causal-lm' (GPT-2-style: only earlier ones). */
  kind: string;
  source: string;
}

export interface NextTokenChoice {
  token: string;
  probability: number;
}

/** host -> webview, after each run (and on `ready`). */
export interface AttentionSummary {
  /** Grows with every summary; requests carry it back. */
  version: number;
  state: 'idle' | 'loading' | 'ready' | 'error';
  /** idle / error: what to tell the user. */
  message?: string;
  models: AttentionModelChoice[];
  /** The model of this run (or the one that will run). */
  model?: string;
  kind?: string;
  tokens: string[];
  special: boolean[];
  /** Index of the token at the cursor (the token to start from). */
  focus: number;
  layers: number;
  heads: number;
  /** True when the sentence was cut to a window around the cursor. */
  truncated: boolean;
  /** Where the text came from, for the caption ("notes.md, line 12"). */
  source?: string;
  /** Causal models: surprisal in bits per token (null for the first). */
  surprisal?: (number | null)[];
  /** Time the engine took for this run, ms. */
  engineMs?: number;
}

/** host -> webview: the cursor moved within the same text. */
export interface AttentionFocus {
  version: number;
  focus: number;
}

/** host -> webview: a command from outside the webview (view title menu, palette). */
export interface AttentionCommand {
  command: 'exportPng' | 'exportSvg' | 'exportJson' | 'exportCsv' | 'view';
  view?: AttentionViewMode;
}

export interface HeadsParams {
  version: number;
  layer: number;
  heads: number[];
}

/** The weights of some heads of one layer: each a tokens x tokens matrix, rows = queries, `encodeUnit16`. */
export interface HeadsPayload {
  version: number;
  layer: number;
  heads: number[];
  tokens: number;
  matrices: string[];
}

export interface ThumbnailsParams {
  version: number;
  /** Cells per side, at most; the host pools larger matrices down to this. */
  size: number;
}

/** Every head of every layer, mean-pooled to `size` x `size`, `encodeUnit8`, [layer][head] order. */
export interface ThumbnailsPayload {
  version: number;
  layers: number;
  heads: number;
  size: number;
  data: string;
}

export interface NextParams {
  version: number;
  position: number;
}

/** The model's most likely next tokens after `position` (causal models). */
export interface NextPayload {
  version: number;
  position: number;
  candidates: NextTokenChoice[];
}

export interface ExportDataParams {
  version: number;
  format: 'json' | 'csv';
  /** `head`: one matrix; `layer`: every head of one layer; `all`: every layer and head. */
  scope: 'head' | 'layer' | 'all';
  layer: number;
  head: number;
}

export interface SaveImageParams {
  format: 'png' | 'svg';
  /** svg: the document text; png: a `data:image/png;base64,` URL. */
  data: string;
  /** File name without extension. */
  name: string;
}

/** Where a file was saved, or undefined when the user cancelled. */
export interface SavedFile {
  path?: string;
}

export const AttentionMessages = {
  summary: notificationType<AttentionSummary>('attention/summary'),
  focus: notificationType<AttentionFocus>('attention/focus'),
  /** host -> webview: a run started (true) or ended (false); the drawing stays until the new summary. */
  busy: notificationType<{ busy: boolean }>('attention/busy'),
  command: notificationType<AttentionCommand>('attention/command'),
  heads: requestType<HeadsParams, HeadsPayload>('attention/heads'),
  thumbnails: requestType<ThumbnailsParams, ThumbnailsPayload>('attention/thumbnails'),
  next: requestType<NextParams, NextPayload>('attention/next'),
  selectModel: requestType<{ model: string }, null>('attention/selectModel'),
  exportData: requestType<ExportDataParams, SavedFile>('attention/exportData'),
  saveImage: requestType<SaveImageParams, SavedFile>('attention/saveImage'),
} as const;

/** What the attention webview keeps across reloads (vscode.setState). */
export interface AttentionViewState {
  view: AttentionViewMode;
  layer: number;
  /** Heads drawn in the head view. */
  heads: number[];
  /** The head of the matrix view. */
  head: number;
}
