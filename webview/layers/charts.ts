/**
 * The Layers panel's drawings, as SVG with concrete theme colours (so they export as they are): one
 * occurrence's vector at every layer as a heat map, and one layer's cosine matrix beside its PCA projection.
 */
import { svg } from '../shared/dom';
import { divergingColour, heatColour, rgb, type Theme } from '../shared/theme';

/** One row per layer, one cell per dimension; each row scaled to its own largest |value| (shown at its end). */
export function vectorHeatmap(layerNames: string[], vectors: number[][], theme: Theme, width: number): SVGSVGElement {
  const label = 64;
  const scaleRoom = 56;
  const dims = vectors[0]?.length ?? 0;
  const cell = Math.max(1, Math.min(16, (width - label - scaleRoom - 8) / Math.max(dims, 1)));
  const rowHeight = 22;
  const w = label + cell * dims + scaleRoom;
  const height = 8 + rowHeight * layerNames.length + 18;
  const root = svg('svg', {
    width: w,
    height,
    viewBox: `0 0 ${w} ${height}`,
    'font-family': theme.fontFamily,
    'font-size': 12,
    'shape-rendering': 'crispEdges',
    role: 'img',
    'aria-label': `Heat map of the vector at ${layerNames.length} layers, ${dims} dimensions each`,
  });
  root.append(svg('rect', { width: w, height, fill: rgb(theme.background) }));
  layerNames.forEach((name, l) => {
    const y = 4 + l * rowHeight;
    const values = vectors[l] ?? [];
    const scale = Math.max(...values.map(Math.abs), 0);
    root.append(svg('text', { x: label - 6, y: y + rowHeight / 2 + 4, 'text-anchor': 'end', fill: rgb(theme.foreground) }, name));
    const row = svg('g', { 'data-layer': l });
    values.forEach((value, d) => {
      row.append(
        svg('rect', {
          x: (label + d * cell).toFixed(2),
          y,
          width: Math.max(cell, 1).toFixed(2),
          height: rowHeight - 3,
          fill: rgb(divergingColour(theme, scale > 0 ? value / scale : 0)),
        }),
      );
    });
    root.append(row);
    root.append(svg('text', { x: label + cell * dims + 6, y: y + rowHeight / 2 + 4, fill: rgb(theme.muted), 'font-size': 11 }, `±${scale.toFixed(2)}`));
  });
  root.append(
    svg('text', { x: label, y: height - 4, fill: rgb(theme.muted), 'font-size': 11 }, `${dims} dimensions · each row scaled to its largest |value| (blue +, red −)`),
  );
  return root;
}

export interface LayerFigureInput {
  title: string;
  cosine: number[];
  points: [number, number][];
  explained: [number, number];
  groups: number[];
  labels: string[];
  current: number;
  theme: Theme;
  width: number;
}

/** Cosine matrix (left) and PCA scatter (right) of one layer; stacked when narrow. */
export function layerFigure(input: LayerFigureInput): SVGSVGElement {
  const { theme } = input;
  const n = input.points.length;
  const side = Math.max(160, Math.min(300, input.width - 40));
  const matrixSide = Math.min(side, Math.max(120, n * 26));
  // the matrix's column is at least as wide as its two-line caption (a few occurrences make a small matrix)
  const column = Math.max(matrixSide, 130);
  const stacked = input.width < column + side + 60;
  const top = 24;
  const width = stacked ? side + 16 : column + side + 48;
  const height = stacked ? top + matrixSide + side + 78 : top + Math.max(side, matrixSide + 14) + 40;
  const root = svg('svg', {
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    'font-family': theme.fontFamily,
    'font-size': 11,
    role: 'img',
    'aria-label': `${input.title}: cosine similarity of ${n} occurrences, and their 2-D projection`,
    'data-occurrences': n,
  });
  root.append(svg('rect', { width, height, fill: rgb(theme.background) }));
  root.append(svg('text', { x: 8, y: 14, fill: rgb(theme.foreground), 'font-size': 12, 'font-weight': 'bold' }, input.title));

  // cosine matrix, coloured from its smallest off-diagonal value (the structure shows whatever the spread)
  const cell = matrixSide / Math.max(n, 1);
  let lo = 1;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) lo = Math.min(lo, input.cosine[i * n + j] ?? 1);
  if (n < 2 || lo > 0.999) lo = Math.min(lo, 0);
  const matrix = svg('g', { class: 'cosine', transform: `translate(14 ${top})`, 'shape-rendering': 'crispEdges' });
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const c = input.cosine[i * n + j] ?? 0;
      const rect = svg('rect', {
        x: (j * cell).toFixed(2),
        y: (i * cell).toFixed(2),
        width: cell.toFixed(2),
        height: cell.toFixed(2),
        fill: rgb(heatColour(theme, (c - lo) / (1 - lo || 1))),
      });
      rect.append(svg('title', {}, `#${i + 1} vs #${j + 1}: cosine ${c.toFixed(3)}`));
      matrix.append(rect);
    }
  }
  // group colour marks along the matrix's left edge
  for (let i = 0; i < n; i++) {
    matrix.append(
      svg('rect', { x: -6, y: (i * cell).toFixed(2), width: 4, height: Math.max(cell - 1, 1).toFixed(2), fill: rgb(theme.palette[input.groups[i]! % theme.palette.length]!) }),
    );
  }
  matrix.append(
    svg('text', { x: 0, y: matrixSide + 14, fill: rgb(theme.muted) }, 'cosine of #i and #j,'),
    svg('text', { x: 0, y: matrixSide + 28, fill: rgb(theme.muted) }, `colour from ${lo.toFixed(2)} to 1`),
  );
  root.append(matrix);

  // PCA scatter
  const ox = stacked ? 8 : column + 40;
  const oy = stacked ? top + matrixSide + 44 : top;
  const scatter = svg('g', { class: 'pca', transform: `translate(${ox} ${oy})` });
  scatter.append(svg('rect', { width: side, height: side, fill: 'none', stroke: rgb(theme.contrastBorder ?? theme.muted), 'stroke-opacity': 0.5 }));
  const xs = input.points.map((p) => p[0]);
  const ys = input.points.map((p) => p[1]);
  const span = (values: number[]) => {
    const lo = Math.min(...values, 0);
    const hi = Math.max(...values, 0);
    return { lo, hi: hi - lo < 1e-9 ? lo + 1 : hi };
  };
  const sx = span(xs);
  const sy = span(ys);
  const pad = 14;
  // room on the right for the labels beside the points
  const px = (x: number) => pad + ((x - sx.lo) / (sx.hi - sx.lo)) * (side - 3 * pad);
  const py = (y: number) => side - pad - ((y - sy.lo) / (sy.hi - sy.lo)) * (side - 2 * pad);
  input.points.forEach(([x, y], i) => {
    const colour = theme.palette[input.groups[i]! % theme.palette.length]!;
    const point = svg('g', { class: 'point', 'data-index': i });
    point.append(
      svg('circle', {
        cx: px(x).toFixed(1),
        cy: py(y).toFixed(1),
        r: i === input.current ? 7 : 5,
        fill: rgb(colour),
        stroke: i === input.current ? rgb(theme.foreground) : rgb(theme.background),
        'stroke-width': i === input.current ? 2 : 1,
      }),
      svg('text', { x: (px(x) + 8).toFixed(1), y: (py(y) + 4).toFixed(1), fill: rgb(theme.foreground) }, `${i + 1}`),
      svg('title', {}, `#${i + 1} (${input.labels[input.groups[i]!] ?? ''})`),
    );
    scatter.append(point);
  });
  scatter.append(
    svg('text', { x: 0, y: side + 14, fill: rgb(theme.muted) }, `PCA: ${(input.explained[0] * 100).toFixed(0)}% + ${(input.explained[1] * 100).toFixed(0)}% of the variance`),
  );
  root.append(scatter);
  return root;
}
