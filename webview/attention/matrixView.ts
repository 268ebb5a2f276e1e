/**
 * The matrix view: one head as a heat map, queries down, keys across. Drawn on a canvas for speed; the same
 * layout builds the SVG export.
 */
import { escapeXml, tokenLabel } from '../shared/dom';
import { heatColour, rgb, type Theme } from '../shared/theme';

export interface MatrixInput {
  tokens: string[];
  data: Float32Array;
  theme: Theme;
  width: number;
  cursor: { query: number; key: number } | null;
  title: string;
}

export interface MatrixLayout {
  cell: number;
  label: number;
  top: number;
  width: number;
  height: number;
  showLabels: boolean;
}

/** Room for the token labels: about 6 px a character, at most 12 characters. */
function labelRoom(labels: readonly string[]): number {
  return 10 + 6 * Math.min(12, Math.max(1, ...labels.map((t) => tokenLabel(t).length)));
}

export function matrixLayout(tokens: readonly string[], width: number, titled = false): MatrixLayout {
  const n = tokens.length;
  const room = labelRoom(tokens);
  const available = Math.max(120, width - room - 12);
  const cell = Math.max(3, Math.min(22, Math.floor(available / Math.max(n, 1))));
  const showLabels = cell >= 8;
  const left = showLabels ? room : 8;
  const top = left + (titled ? 18 : 0);
  return { cell, label: left, top, width: left + cell * n + 8, height: top + cell * n + 8, showLabels };
}

export function drawMatrix(canvas: HTMLCanvasElement, input: MatrixInput): MatrixLayout {
  const n = input.tokens.length;
  const layout = matrixLayout(input.tokens, input.width);
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(layout.width * ratio);
  canvas.height = Math.round(layout.height * ratio);
  canvas.style.width = `${layout.width}px`;
  canvas.style.height = `${layout.height}px`;
  const ctx = canvas.getContext('2d');
  if (!ctx) return layout;
  ctx.scale(ratio, ratio);
  const { theme } = input;
  ctx.fillStyle = rgb(theme.background);
  ctx.fillRect(0, 0, layout.width, layout.height);
  for (let q = 0; q < n; q++) {
    for (let k = 0; k < n; k++) {
      ctx.fillStyle = rgb(heatColour(theme, input.data[q * n + k]!));
      ctx.fillRect(layout.label + k * layout.cell, layout.top + q * layout.cell, layout.cell, layout.cell);
    }
  }
  if (layout.showLabels) {
    ctx.fillStyle = rgb(theme.foreground);
    ctx.font = `${Math.min(12, layout.cell)}px ${theme.fontFamily}`;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (let i = 0; i < n; i++) {
      const text = clip(tokenLabel(input.tokens[i] ?? ''));
      ctx.fillText(text, layout.label - 4, layout.top + i * layout.cell + layout.cell / 2);
      ctx.save();
      ctx.translate(layout.label + i * layout.cell + layout.cell / 2, layout.top - 4);
      ctx.rotate(-Math.PI / 2);
      ctx.textAlign = 'left';
      ctx.fillText(text, 0, 0);
      ctx.restore();
    }
  }
  if (input.cursor) {
    ctx.strokeStyle = rgb(theme.contrastBorder ?? theme.accent);
    ctx.lineWidth = 2;
    const { query, key } = input.cursor;
    ctx.strokeRect(layout.label + key * layout.cell, layout.top + query * layout.cell, layout.cell, layout.cell);
  }
  return layout;
}

/** The cell under a point of the canvas (CSS pixels), if any. */
export function cellAt(layout: MatrixLayout, tokens: number, x: number, y: number): { query: number; key: number } | null {
  const key = Math.floor((x - layout.label) / layout.cell);
  const query = Math.floor((y - layout.top) / layout.cell);
  return key >= 0 && key < tokens && query >= 0 && query < tokens ? { query, key } : null;
}

function clip(text: string, max = 12): string {
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}

export function matrixSvg(input: MatrixInput): { text: string; width: number; height: number } {
  const n = input.tokens.length;
  const layout = matrixLayout(input.tokens, Math.max(input.width, 22 * n + 100), true);
  const { theme } = input;
  const parts: string[] = [];
  parts.push(`<rect x="0" y="0" width="${layout.width}" height="${layout.height}" fill="${rgb(theme.background)}"/>`);
  parts.push(`<text x="4" y="12" font-size="11" fill="${rgb(theme.muted)}">${escapeXml(input.title)}</text>`);
  for (let q = 0; q < n; q++) {
    for (let k = 0; k < n; k++) {
      const w = input.data[q * n + k]!;
      parts.push(
        `<rect x="${layout.label + k * layout.cell}" y="${layout.top + q * layout.cell}" width="${layout.cell}" height="${layout.cell}" fill="${rgb(heatColour(theme, w))}"><title>${w.toFixed(4)}</title></rect>`,
      );
    }
  }
  if (layout.showLabels) {
    for (let i = 0; i < n; i++) {
      const text = escapeXml(clip(tokenLabel(input.tokens[i] ?? '')));
      const cy = layout.top + i * layout.cell + layout.cell / 2 + 4;
      parts.push(`<text x="${layout.label - 4}" y="${cy}" text-anchor="end" font-size="11" fill="${rgb(theme.foreground)}">${text}</text>`);
      const cx = layout.label + i * layout.cell + layout.cell / 2 + 4;
      parts.push(
        `<text transform="translate(${cx} ${layout.top - 4}) rotate(-90)" font-size="11" fill="${rgb(theme.foreground)}">${text}</text>`,
      );
    }
  }
  const text =
    `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="${layout.width}" height="${layout.height}" ` +
    `viewBox="0 0 ${layout.width} ${layout.height}" font-family="${escapeXml(theme.fontFamily)}" shape-rendering="crispEdges">${parts.join('')}</svg>`;
  return { text, width: layout.width, height: layout.height };
}
