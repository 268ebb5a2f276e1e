/**
 * One analysed word: its occurrences' ELMo vectors and what the Layers panel is sent about them (the summary,
 * then one occurrence's heat map or one layer's similarities and projection on demand). Pure: no `vscode`.
 */
import type { LayerVector } from '../../engine/api';
import type { LayerPayload, LayersSummary, VectorsPayload } from '../../protocol/layers';
import { clusterGroups, cosineMatrix, pca2 } from './layerAnalysis';
import type { FoundOccurrence } from './occurrences';

export interface EmbeddedOccurrence {
  found: FoundOccurrence;
  layers: LayerVector[];
}

/** Colour groups: the engine's senses when it has them, else clusters of the top layer. */
export interface Grouping {
  by: 'sense' | 'cluster';
  groups: number[];
  labels: string[];
  note: string;
}

export function clusterGrouping(items: readonly EmbeddedOccurrence[]): Grouping {
  const top = items.map((item) => item.layers[item.layers.length - 1]?.vector ?? []);
  const groups = clusterGroups(top);
  const count = Math.max(...groups, 0) + 1;
  const topName = items[0]?.layers[items[0].layers.length - 1]?.layer ?? 'top';
  return {
    by: 'cluster',
    groups,
    labels: Array.from({ length: count }, (_, g) => `cluster ${g + 1}`),
    note:
      count > 1
        ? `Colours: ${count} clusters of the ${topName} vectors (no sense model is available).`
        : `Colours: one group; the ${topName} vectors do not separate into clusters (no sense model is available).`,
  };
}

/** Groups by the sense chosen for each occurrence (WordNet synset), labelled by their glosses. */
export function senseGrouping(senses: readonly { synset: string; gloss: string; lemma?: string }[]): Grouping {
  const index = new Map<string, number>();
  const labels: string[] = [];
  const groups = senses.map((sense) => {
    let g = index.get(sense.synset);
    if (g === undefined) {
      g = index.size;
      index.set(sense.synset, g);
      const gloss = sense.gloss.length > 60 ? sense.gloss.slice(0, 59) + '…' : sense.gloss;
      labels.push(`${sense.synset}: ${gloss}`);
    }
    return g;
  });
  return { by: 'sense', groups, labels, note: 'Colours: the WordNet sense the engine chose for each occurrence.' };
}

const round = (x: number, digits = 4): number => Math.round(x * 10 ** digits) / 10 ** digits || 0; // no -0

export class LayersData {
  private readonly layerCache = new Map<number, LayerPayload>();

  constructor(
    readonly word: string,
    readonly model: string,
    readonly items: readonly EmbeddedOccurrence[],
    readonly grouping: Grouping,
    readonly current: number,
    readonly more: boolean,
  ) {}

  get layerNames(): string[] {
    return this.items[0]?.layers.map((l) => l.layer) ?? [];
  }

  summary(version: number, document: string, target: { uri: string; line: number; character: number }): LayersSummary {
    return {
      version,
      state: 'ready',
      word: this.word,
      model: this.model,
      document,
      ...target,
      layerNames: this.layerNames,
      dims: this.items[0]?.layers[0]?.vector.length ?? 0,
      occurrences: this.items.map(({ found }, i) => ({
        line: found.line,
        character: found.character,
        before: found.before,
        word: found.context.word,
        after: found.after,
        group: this.grouping.groups[i] ?? 0,
      })),
      moreOccurrences: this.more,
      current: this.current,
      grouping: { by: this.grouping.by, labels: this.grouping.labels, note: this.grouping.note },
    };
  }

  vectors(version: number, occurrence: number): VectorsPayload {
    const item = this.items[checkIndex('occurrence', occurrence, this.items.length)]!;
    let scale = 0;
    for (const l of item.layers) for (const x of l.vector) scale = Math.max(scale, Math.abs(x));
    return {
      version,
      occurrence,
      layerNames: item.layers.map((l) => l.layer),
      vectors: item.layers.map((l) => l.vector.map((x) => round(x))),
      scale: round(scale),
    };
  }

  layer(version: number, layer: number): LayerPayload {
    checkIndex('layer', layer, this.layerNames.length);
    let payload = this.layerCache.get(layer);
    if (!payload) {
      const vectors = this.items.map((item) => item.layers[layer]!.vector);
      const { points, explained } = pca2(vectors);
      payload = {
        version,
        layer,
        cosine: cosineMatrix(vectors).map((c) => round(c)),
        points: points.map(([x, y]) => [round(x), round(y)]),
        explained: [round(explained[0], 3), round(explained[1], 3)],
      };
      this.layerCache.set(layer, payload);
    }
    return { ...payload, version };
  }
}

function checkIndex(what: string, value: unknown, count: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= count) {
    throw Object.assign(new Error(`${what} ${String(value)} is out of range (0 to ${count - 1}).`), { code: 'BAD_INPUT' });
  }
  return value;
}
