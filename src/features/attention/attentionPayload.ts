/**
 * What the attention webview is sent, built from one engine result: a summary without weights, then on demand
 * one layer's chosen heads, the pooled thumbnails of the model view, or the next tokens at a position; and the
 * exports (JSON, CSV), which never go through the webview. Pure: no `vscode` import.
 */
import type { AttentionResult } from '../../engine/api';
import { headMatrix, type AttentionShape } from '../../engine/tasks/attention/attentionTensor';
import { encodeUnit16, encodeUnit8 } from '../../protocol/bytes';
import type {
  AttentionModelChoice,
  AttentionSummary,
  ExportDataParams,
  HeadsPayload,
  NextPayload,
  ThumbnailsPayload,
} from '../../protocol/attention';

export function shapeOf(result: AttentionResult): AttentionShape {
  return { layers: result.layers, heads: result.heads, tokens: result.tokens.length };
}

/** The token whose word contains `offset` (or the nearest text token before it; the first text token otherwise). */
export function tokenAtOffset(spans: AttentionResult['spans'], offset: number): number {
  let best = -1;
  for (let i = 0; i < spans.length; i++) {
    const span = spans[i];
    if (!span) continue;
    if (best < 0) best = i;
    if (span[0] <= offset) best = i;
    if (span[0] <= offset && offset < span[1]) {
      return i; // the first token of the word
    }
  }
  return Math.max(best, 0);
}

export function readySummary(
  result: AttentionResult,
  version: number,
  models: AttentionModelChoice[],
  focusOffset: number,
  extra: { source?: string; engineMs?: number; clipped?: boolean } = {},
): AttentionSummary {
  return {
    version,
    state: 'ready',
    models,
    model: result.model,
    kind: result.kind,
    tokens: result.tokens,
    special: result.special,
    focus: tokenAtOffset(result.spans, focusOffset),
    layers: result.layers,
    heads: result.heads,
    truncated: result.truncated || extra.clipped === true,
    ...(extra.source === undefined ? {} : { source: extra.source }),
    ...(result.surprisal ? { surprisal: result.surprisal.map((s) => (s === null ? null : round(s, 3))) } : {}),
    ...(extra.engineMs === undefined ? {} : { engineMs: Math.round(extra.engineMs) }),
  };
}

/** A summary with nothing to draw (no editor, no text, loading, an error). */
export function emptySummary(
  version: number,
  state: AttentionSummary['state'],
  models: AttentionModelChoice[],
  message?: string,
  model?: string,
): AttentionSummary {
  return {
    version,
    state,
    models,
    ...(message === undefined ? {} : { message }),
    ...(model === undefined ? {} : { model }),
    tokens: [],
    special: [],
    focus: 0,
    layers: 0,
    heads: 0,
    truncated: false,
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function checkIndex(what: string, value: unknown, count: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= count) {
    throw Object.assign(new Error(`${what} ${String(value)} is out of range (0 to ${count - 1}).`), { code: 'BAD_INPUT' });
  }
  return value;
}

/** The chosen heads of one layer, each a tokens x tokens matrix quantised to 16 bits. */
export function headsPayload(result: AttentionResult, version: number, layer: number, heads: readonly number[]): HeadsPayload {
  const shape = shapeOf(result);
  checkIndex('layer', layer, shape.layers);
  const chosen = [...new Set(heads)].map((h) => checkIndex('head', h, shape.heads));
  return {
    version,
    layer,
    heads: chosen,
    tokens: shape.tokens,
    matrices: chosen.map((h) => encodeUnit16(headMatrix(result.attentions, shape, layer, h))),
  };
}

/** Mean-pools a tokens x tokens matrix to `size` x `size` (or keeps it when smaller). */
export function poolMatrix(matrix: Float32Array, tokens: number, size: number): { size: number; cells: Float32Array } {
  const n = Math.min(tokens, size);
  const cells = new Float32Array(n * n);
  if (n === tokens) {
    cells.set(matrix);
    return { size: n, cells };
  }
  const counts = new Uint16Array(n * n);
  for (let q = 0; q < tokens; q++) {
    const row = Math.floor((q * n) / tokens);
    for (let k = 0; k < tokens; k++) {
      const cell = row * n + Math.floor((k * n) / tokens);
      cells[cell]! += matrix[q * tokens + k]!;
      counts[cell]!++;
    }
  }
  for (let c = 0; c < cells.length; c++) cells[c] = counts[c] ? cells[c]! / counts[c]! : 0;
  return { size: n, cells };
}

/** Every head mean-pooled to at most `size` cells a side (weights as they are: a uniform head looks flat). */
export function thumbnailsPayload(result: AttentionResult, version: number, size: number): ThumbnailsPayload {
  const shape = shapeOf(result);
  const side = Math.max(1, Math.min(Math.floor(size), 64, shape.tokens));
  const all = new Float32Array(shape.layers * shape.heads * side * side);
  for (let l = 0; l < shape.layers; l++) {
    for (let h = 0; h < shape.heads; h++) {
      const { cells } = poolMatrix(headMatrix(result.attentions, shape, l, h), shape.tokens, side);
      all.set(cells, (l * shape.heads + h) * side * side);
    }
  }
  return { version, layers: shape.layers, heads: shape.heads, size: side, data: encodeUnit8(all) };
}

export function nextPayload(result: AttentionResult, version: number, position: number): NextPayload {
  checkIndex('position', position, result.tokens.length);
  const candidates = (result.next?.[position] ?? []).map((c) => ({ token: c.token, probability: round(c.probability, 5) }));
  return { version, position, candidates };
}

type Scope = Pick<ExportDataParams, 'scope' | 'layer' | 'head'>;

/** The (layer, head) pairs an export covers. */
function pairs(result: AttentionResult, { scope, layer, head }: Scope): [number, number][] {
  const shape = shapeOf(result);
  if (scope === 'all') {
    return Array.from({ length: shape.layers * shape.heads }, (_, i) => [Math.floor(i / shape.heads), i % shape.heads]);
  }
  checkIndex('layer', layer, shape.layers);
  if (scope === 'layer') return Array.from({ length: shape.heads }, (_, h) => [layer, h]);
  return [[layer, checkIndex('head', head, shape.heads)]];
}

/** JSON export: the CLI's shape, limited to the scope (`attentions[layer][head][query][key]`). */
export function attentionJson(result: AttentionResult, scope: Scope): string {
  const shape = shapeOf(result);
  const chosen = pairs(result, scope);
  const layers = [...new Set(chosen.map(([l]) => l))];
  const attentions = layers.map((l) =>
    chosen
      .filter(([pl]) => pl === l)
      .map(([, h]) => {
        const m = headMatrix(result.attentions, shape, l, h);
        return Array.from({ length: shape.tokens }, (_, q) => Array.from(m.subarray(q * shape.tokens, (q + 1) * shape.tokens)));
      }),
  );
  return JSON.stringify(
    {
      model: result.model,
      tokens: result.tokens,
      layerIndexes: layers,
      headIndexes: chosen.filter(([l]) => l === layers[0]).map(([, h]) => h),
      attentions,
      truncated: result.truncated,
      ...(result.surprisal ? { surprisal: result.surprisal } : {}),
    },
    null,
    1,
  );
}

/** CSV export, one row per weight: layer,head,query,query_token,key,key_token,weight. */
export function attentionCsv(result: AttentionResult, scope: Scope): string {
  const shape = shapeOf(result);
  const quote = (text: string): string => (/[",\n\r\s]/.test(text) || text === '' ? `"${text.replace(/"/g, '""')}"` : text);
  const tokens = result.tokens.map(quote);
  const lines = ['layer,head,query,query_token,key,key_token,weight'];
  for (const [l, h] of pairs(result, scope)) {
    const m = headMatrix(result.attentions, shape, l, h);
    for (let q = 0; q < shape.tokens; q++) {
      for (let k = 0; k < shape.tokens; k++) {
        lines.push(`${l},${h},${q},${tokens[q]},${k},${tokens[k]},${m[q * shape.tokens + k]!.toPrecision(6)}`);
      }
    }
  }
  return lines.join('\n') + '\n';
}
