/**
 * Messages between the Layers panel (webview/layers) and its host (src/features/layers): the word's
 * occurrences in the document and their ELMo vectors, analysed per layer on demand.
 */
import { notificationType, requestType } from './rpc';
import type { SavedFile, SaveImageParams } from './attention';

export interface Occurrence {
  /** 0-based line and UTF-16 column of the word in the document. */
  line: number;
  character: number;
  /** The sentence around it, split at the word. */
  before: string;
  word: string;
  after: string;
  /** Colour group: the sense chosen for it, or its cluster. */
  group: number;
}

export interface LayersSummary {
  version: number;
  state: 'idle' | 'loading' | 'ready' | 'error';
  message?: string;
  word?: string;
  model?: string;
  /** File name of the document. */
  document?: string;
  /** The document and the word's position: the panel's state, so a reload can compute it again. */
  uri?: string;
  line?: number;
  character?: number;
  layerNames: string[];
  dims: number;
  occurrences: Occurrence[];
  /** True when the document has more occurrences than were embedded. */
  moreOccurrences: boolean;
  /** The occurrence at the cursor (the one the heat map shows first). */
  current: number;
  /** How points are coloured: by the engine's senses, or by clusters of the top-layer vectors. */
  grouping: { by: 'sense' | 'cluster'; labels: string[]; note: string };
}

export interface VectorsParams {
  version: number;
  occurrence: number;
}

/** One occurrence's vector at every layer: the heat map rows (layers x dims). */
export interface VectorsPayload {
  version: number;
  occurrence: number;
  layerNames: string[];
  vectors: number[][];
  /** Largest |value| over all layers: the heat map's scale. */
  scale: number;
}

export interface LayerParams {
  version: number;
  layer: number;
}

/** One layer's picture of the occurrences. */
export interface LayerPayload {
  version: number;
  layer: number;
  /** N x N cosine similarities, row-major. */
  cosine: number[];
  /** 2-D PCA coordinates of each occurrence's vector. */
  points: [number, number][];
  /** Share of the variance the two components explain. */
  explained: [number, number];
}

export const LayersMessages = {
  summary: notificationType<LayersSummary>('layers/summary'),
  busy: notificationType<{ busy: boolean; message?: string }>('layers/busy'),
  vectors: requestType<VectorsParams, VectorsPayload>('layers/vectors'),
  layer: requestType<LayerParams, LayerPayload>('layers/layer'),
  reveal: requestType<{ version: number; occurrence: number }, null>('layers/reveal'),
  saveImage: requestType<SaveImageParams, SavedFile>('layers/saveImage'),
} as const;

/** What the Layers panel keeps across reloads (vscode.setState, and the panel serializer). */
export interface LayersViewState {
  /** Where the word is: revived panels compute again from here. */
  uri?: string;
  line?: number;
  character?: number;
  layer: number;
  occurrence?: number;
}
