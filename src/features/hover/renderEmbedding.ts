/**
 * Turns an embedding result into the hover's markdown. Pure (no `vscode`): the provider wraps the string in a
 * MarkdownString. Kept apart from the provider so later issues (senses, neighbours) can add sections here.
 */
import type { EmbedResult, LayerVector } from '../../engine/api';
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

export function renderEmbeddingHover(word: string, result: EmbedResult): string {
  const lines: string[] = [];
  lines.push(`**LM Lens — "${escapeMarkdown(word)}"**`, '');
  lines.push(...renderTag(result.tag));
  const dim = result.layers[0]?.vector.length ?? 0;
  lines.push(
    `model \`${result.model}\` · ${result.layers.length} layers × ${dim} dims` +
      (result.truncated ? ' · sentence cut to a window around the word' : ''),
    '',
  );
  const context = contextSnippet(result.tokens, result.index);
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
 * Tokens written against the word before them ("river ." -> "river."). The tokens are `splitWords`' (engine/words):
 * punctuation one character a token, "don't" and "river's" one word, so no clitic ever stands alone.
 */
const CLOSES = /^[.,;:!?%)\]}»”’]$/;
/** Tokens the next word is written against ("( a" -> "(a"). */
const OPENS = /^[([{«“‘$]$/;

/**
 * A few tokens either side of the word, the word in bold, spaced as text is written: the biLM's tokens are words
 * and punctuation, and a space before every "," or "." reads as a tokenizer's output, not as the sentence.
 */
export function contextSnippet(tokens: readonly string[], index: number, side = 6): string {
  if (index < 0 || index >= tokens.length) return '';
  const from = Math.max(0, index - side);
  const to = Math.min(tokens.length, index + side + 1);
  let text = from > 0 ? '…' : '';
  for (let i = from; i < to; i++) {
    const token = tokens[i]!;
    const joined = text === '' || CLOSES.test(token) || (i > from && OPENS.test(tokens[i - 1]!));
    text += (joined ? '' : ' ') + (i === index ? `**${escapeMarkdown(token)}**` : escapeMarkdown(token));
  }
  return text + (to < tokens.length ? ' …' : '');
}

function formatDim(x: number): string {
  return x.toFixed(2);
}
