/**
 * The model view: every head of every layer as a small heat map (mean-pooled by the host), rows = layers,
 * columns = heads. Each thumbnail is a button: click or Enter opens it in the head view.
 */
import { escapeXml, h } from '../shared/dom';
import { heatColour, rgb, type Theme } from '../shared/theme';

export interface Thumbnails {
  layers: number;
  heads: number;
  size: number;
  /** layers x heads x size x size mean weights. */
  data: Float32Array;
}

export function thumbnailPixels(width: number, heads: number): number {
  return Math.max(28, Math.min(72, Math.floor((width - 36) / Math.max(heads, 1)) - 6));
}

function paint(canvas: HTMLCanvasElement, cells: Float32Array, size: number, pixels: number, theme: Theme): void {
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(pixels * ratio);
  canvas.height = Math.round(pixels * ratio);
  canvas.style.width = `${pixels}px`;
  canvas.style.height = `${pixels}px`;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.scale(ratio, ratio);
  const cell = pixels / size;
  for (let q = 0; q < size; q++) {
    for (let k = 0; k < size; k++) {
      ctx.fillStyle = rgb(heatColour(theme, cells[q * size + k]!));
      ctx.fillRect(k * cell, q * cell, Math.ceil(cell), Math.ceil(cell));
    }
  }
}

export function drawModelView(
  thumbs: Thumbnails,
  theme: Theme,
  width: number,
  current: { layer: number; head: number },
  open: (layer: number, head: number) => void,
): HTMLElement {
  const pixels = thumbnailPixels(width, thumbs.heads);
  const grid = h('div', {
    class: 'model-grid',
    role: 'grid',
    'aria-label': `${thumbs.layers} layers by ${thumbs.heads} heads; arrow keys move, Enter opens a head`,
  });
  grid.style.gridTemplateColumns = `28px repeat(${thumbs.heads}, ${pixels + 4}px)`;
  grid.append(h('div', { class: 'corner' }));
  for (let head = 0; head < thumbs.heads; head++) grid.append(h('div', { class: 'axis', role: 'columnheader' }, `H${head + 1}`));
  const cellCount = thumbs.size * thumbs.size;
  for (let layer = 0; layer < thumbs.layers; layer++) {
    const row = h('div', { class: 'row', role: 'row' });
    row.append(h('div', { class: 'axis', role: 'rowheader' }, `L${layer + 1}`));
    for (let head = 0; head < thumbs.heads; head++) {
      const isCurrent = layer === current.layer && head === current.head;
      const button = h('div', {
        class: `thumb${isCurrent ? ' current' : ''}`,
        role: 'gridcell',
        tabindex: isCurrent ? 0 : -1,
        'aria-label': `Layer ${layer + 1}, head ${head + 1}`,
        'data-layer': layer,
        'data-head': head,
        title: `Layer ${layer + 1}, head ${head + 1}`,
      });
      const canvas = h('canvas');
      const at = (layer * thumbs.heads + head) * cellCount;
      paint(canvas, thumbs.data.subarray(at, at + cellCount), thumbs.size, pixels, theme);
      button.append(canvas);
      button.addEventListener('click', () => open(layer, head));
      row.append(button);
    }
    grid.append(row);
  }
  grid.addEventListener('keydown', (event) => {
    const target = event.target as HTMLElement;
    const layer = Number(target.dataset['layer']);
    const head = Number(target.dataset['head']);
    if (!Number.isInteger(layer) || !Number.isInteger(head)) return;
    const moves: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const move = moves[event.key];
    if (move) {
      const l = Math.min(Math.max(layer + move[0], 0), thumbs.layers - 1);
      const hd = Math.min(Math.max(head + move[1], 0), thumbs.heads - 1);
      const next = grid.querySelector<HTMLElement>(`[data-layer="${l}"][data-head="${hd}"]`);
      if (next) {
        target.tabIndex = -1;
        next.tabIndex = 0;
        next.focus();
      }
      event.preventDefault();
      event.stopPropagation();
    } else if (event.key === 'Enter' || event.key === ' ') {
      open(layer, head);
      event.preventDefault();
      event.stopPropagation();
    }
  });
  return grid;
}

export function modelSvg(thumbs: Thumbnails, theme: Theme, title: string): { text: string; width: number; height: number } {
  const pixels = 64;
  const gap = 6;
  const left = 34;
  const top = 40;
  const width = left + thumbs.heads * (pixels + gap) + 8;
  const height = top + thumbs.layers * (pixels + gap) + 8;
  const cell = pixels / thumbs.size;
  const parts: string[] = [`<rect width="${width}" height="${height}" fill="${rgb(theme.background)}"/>`];
  parts.push(`<text x="4" y="14" font-size="12" fill="${rgb(theme.muted)}">${escapeXml(title)}</text>`);
  for (let head = 0; head < thumbs.heads; head++) {
    parts.push(`<text x="${left + head * (pixels + gap) + pixels / 2}" y="${top - 6}" text-anchor="middle" font-size="11" fill="${rgb(theme.foreground)}">H${head + 1}</text>`);
  }
  const cellCount = thumbs.size * thumbs.size;
  for (let layer = 0; layer < thumbs.layers; layer++) {
    const y0 = top + layer * (pixels + gap);
    parts.push(`<text x="4" y="${y0 + pixels / 2 + 4}" font-size="11" fill="${rgb(theme.foreground)}">L${layer + 1}</text>`);
    for (let head = 0; head < thumbs.heads; head++) {
      const x0 = left + head * (pixels + gap);
      const at = (layer * thumbs.heads + head) * cellCount;
      for (let q = 0; q < thumbs.size; q++) {
        for (let k = 0; k < thumbs.size; k++) {
          const fill = rgb(heatColour(theme, thumbs.data[at + q * thumbs.size + k]!));
          parts.push(`<rect x="${(x0 + k * cell).toFixed(2)}" y="${(y0 + q * cell).toFixed(2)}" width="${cell.toFixed(2)}" height="${cell.toFixed(2)}" fill="${fill}"/>`);
        }
      }
    }
  }
  const text =
    `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="${escapeXml(theme.fontFamily)}" shape-rendering="crispEdges">${parts.join('')}</svg>`;
  return { text, width, height };
}
