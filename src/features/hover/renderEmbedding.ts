/**
 * Turns an embedding result into the hover's markdown. Pure (no `vscode`): the provider wraps the string in a
 * MarkdownString. Kept apart from the provider so later issues (senses, neighbours) can add sections here.
 */
import type { EmbedResult, LayerVector, TokenOffsets } from '../../engine/api';
import { escapeMarkdown } from './markdown';
import { renderTag } from './renderTag';

export interface LayerStats {
  layer: string;
  norm: number;
  /** Cosine similarity to the first (token, context-free) layer. */
  cosineToToken: number;
  sparkline: string;
  head: number[];
}

const SPARK = '▁▂▃▄▅▆▇█';
export const SPARK_DIMS = 16;
export const HEAD_DIMS = 4;

export function norm(v: readonly number[]): number {
  let s = 0;
  for (const x of v) s += x * x;
  return Math.sqrt(s);
}

export function cosine(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < n; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** One block character per dimension, scaled between the smallest and largest of the dims shown. */
export function sparkline(v: readonly number[], dims = SPARK_DIMS): string {
  const xs = v.slice(0, dims);
  if (xs.length === 0) return '';
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  const span = hi - lo || 1;
  return xs.map((x) => SPARK[Math.min(SPARK.length - 1, Math.floor(((x - lo) / span) * SPARK.length))]).join('');
}

/** A layer's name for people: the engine's `lstm1` is shown as `LSTM 1`. */
export function layerLabel(layer: string): string {
  const lstm = /^lstm\s*(\d+)$/i.exec(layer);
  return lstm ? `LSTM ${lstm[1]}` : layer;
}

export function layerStats(layers: readonly LayerVector[]): LayerStats[] {
  const token = layers[0]?.vector ?? [];
  return layers.map(({ layer, vector }) => ({
    layer: layerLabel(layer),
    norm: norm(vector),
    cosineToToken: cosine(vector, token),
    sparkline: sparkline(vector),
    head: vector.slice(0, HEAD_DIMS),
  }));
}

/** `text` is the text the request sent (the result's offsets point into it). */
export function renderEmbeddingHover(word: string, result: EmbedResult, text: string): string {
  const lines: string[] = [];
  lines.push(`**LM Lens — "${escapeMarkdown(word)}"**`, '');
  lines.push(...renderTag(result.tag));
  const dim = result.layers[0]?.vector.length ?? 0;
  lines.push(
    `model \`${result.model}\` · ${result.layers.length} layers × ${dim} dims` +
      (result.truncated ? ' · sentence cut to a window around the word' : ''),
    '',
  );
  const context = contextSnippet(text, result.offsets, result.index);
  if (context) lines.push(context, '');
  lines.push('| layer | norm | cos to token | first dims |', '|:--|--:|--:|:--|');
  for (const s of layerStats(result.layers)) {
    lines.push(
      `| ${escapeMarkdown(s.layer)} | ${s.norm.toFixed(2)} | ${s.cosineToToken.toFixed(3)} | ` +
        `\`${s.sparkline}\` ${s.head.map(formatDim).join(' ')} … |`,
    );
  }
  return lines.join('\n');
}

/**
 * A few tokens either side of the word, the word in bold, sliced from the user's own text (`offsets` are the
 * engine's, into `text`): their spacing, punctuation and script, not tokens joined by a rule. Line breaks and runs
 * of spaces become one space, so the line stays one line in the hover.
 */
export function contextSnippet(text: string, offsets: TokenOffsets, index: number, side = 6): string {
  const word = offsets[index];
  if (!word) return '';
  const from = Math.max(0, index - side);
  const to = Math.min(offsets.length, index + side + 1);
  const piece = (start: number, end: number): string => escapeMarkdown(text.slice(start, end).replace(/\s+/g, ' '));
  return (
    (from > 0 ? '… ' : '') +
    piece(offsets[from]![0], word[0]) +
    `**${piece(word[0], word[1])}**` +
    piece(word[1], offsets[to - 1]![1]) +
    (to < offsets.length ? ' …' : '')
  );
}

function formatDim(x: number): string {
  return x.toFixed(2);
}
