/**
 * The head view: the tokens twice, queries on the left and keys on the right, a line from each query to each
 * key it attends to, as opaque as the weight, one colour per head. Isolating a token (hover, click, arrow
 * keys) keeps only its lines. Drawn as SVG with concrete colours, so the element exports as it is.
 */
import { svg, tokenLabel } from '../shared/dom';
import { rgb, type Rgb, type Theme } from '../shared/theme';

export type Side = 'query' | 'key';

export interface HeadMatrix {
  head: number;
  colour: Rgb;
  /** tokens x tokens, row = query. */
  data: Float32Array;
}

export interface HeadViewInput {
  tokens: string[];
  special: boolean[];
  matrices: HeadMatrix[];
  isolate: { token: number; side: Side } | null;
  /** The token at the cursor (outlined). */
  cursor: number;
  theme: Theme;
  width: number;
}

export const ROW = 20;
const TOP = 26;
/** Lines below this weight are not drawn (invisible anyway); at most MAX_LINES per query and head. */
const MIN_WEIGHT = 0.01;
const MAX_LINES = 32;

export function headViewSize(tokens: number, width: number): { width: number; height: number } {
  return { width: Math.max(width, 240), height: TOP + tokens * ROW + 8 };
}

export function drawHeadView(input: HeadViewInput): SVGSVGElement {
  const { tokens, theme } = input;
  const n = tokens.length;
  const { width, height } = headViewSize(n, input.width);
  const column = Math.min(150, Math.max(64, Math.floor(width * 0.3)));
  const leftX = column;
  const rightX = width - column;
  const y = (i: number) => TOP + i * ROW + ROW / 2;
  const highContrast = theme.kind.startsWith('high-contrast');
  const root = svg('svg', {
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    'font-family': theme.fontFamily,
    'font-size': 12,
    role: 'img',
    'aria-label': describe(input),
    'data-signature': signature(input),
  });
  root.append(svg('rect', { x: 0, y: 0, width, height, fill: rgb(theme.background) }));
  root.append(
    svg('text', { x: leftX, y: 14, 'text-anchor': 'end', fill: rgb(theme.muted), 'font-size': 11 }, 'attends from'),
    svg('text', { x: rightX, y: 14, 'text-anchor': 'start', fill: rgb(theme.muted), 'font-size': 11 }, 'to'),
  );

  // lines
  const lines = svg('g', { class: 'lines', 'stroke-linecap': 'round' });
  for (const m of input.matrices) {
    const group = svg('g', { stroke: rgb(m.colour), 'stroke-width': highContrast ? 2.5 : 2, 'data-head': m.head });
    for (let q = 0; q < n; q++) {
      if (input.isolate?.side === 'query' && input.isolate.token !== q) continue;
      const row = m.data.subarray(q * n, (q + 1) * n);
      const keys: number[] = [];
      for (let k = 0; k < n; k++) {
        if (input.isolate?.side === 'key' && input.isolate.token !== k) continue;
        if (row[k]! >= MIN_WEIGHT) keys.push(k);
      }
      if (keys.length > MAX_LINES) keys.sort((a, b) => row[b]! - row[a]!).splice(MAX_LINES);
      for (const k of keys) {
        const w = row[k]!;
        const opacity = highContrast ? Math.max(0.25, Math.min(1, w * 1.2)) : Math.min(1, w * (input.isolate ? 1.1 : 0.9));
        group.append(
          svg('line', { x1: leftX + 6, y1: y(q), x2: rightX - 6, y2: y(k), 'stroke-opacity': opacity.toFixed(3) }),
        );
      }
    }
    lines.append(group);
  }
  root.append(lines);

  // tokens, both columns
  for (const side of ['query', 'key'] as const) {
    const group = svg('g', { class: `tokens ${side}` });
    for (let i = 0; i < n; i++) {
      const isolated = input.isolate?.side === side && input.isolate.token === i;
      const x = side === 'query' ? 4 : rightX;
      const cell = svg('g', { class: 'token', 'data-index': i, 'data-side': side });
      cell.append(
        svg('rect', {
          x,
          y: TOP + i * ROW + 1,
          width: column - 4,
          height: ROW - 2,
          rx: 3,
          fill: isolated ? rgb(theme.accent, 0.3) : rgb(theme.background, 0.01),
          stroke: i === input.cursor ? rgb(theme.accent) : theme.contrastBorder && isolated ? rgb(theme.contrastBorder) : 'none',
          'stroke-width': 1,
        }),
        svg(
          'text',
          {
            x: side === 'query' ? leftX - 4 : rightX + 4,
            y: y(i) + 4,
            'text-anchor': side === 'query' ? 'end' : 'start',
            fill: rgb(input.special[i] ? theme.muted : theme.foreground),
            'font-weight': isolated ? 'bold' : undefined,
          },
          clip(tokenLabel(tokens[i] ?? ''), 18),
        ),
      );
      group.append(cell);
    }
    root.append(group);
  }
  return root;
}

function clip(text: string, max: number): string {
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}

/** A short text of what is drawn (the element's accessible name). */
function describe(input: HeadViewInput): string {
  const heads = input.matrices.map((m) => m.head + 1).join(', ');
  if (!input.isolate) return `Attention lines between ${input.tokens.length} tokens, heads ${heads}.`;
  const { token, side } = input.isolate;
  const label = tokenLabel(input.tokens[token] ?? '');
  const m = input.matrices[0];
  if (!m) return label;
  const n = input.tokens.length;
  let best = 0;
  let bestWeight = -1;
  for (let i = 0; i < n; i++) {
    const w = side === 'query' ? m.data[token * n + i]! : m.data[i * n + token]!;
    if (w > bestWeight) {
      best = i;
      bestWeight = w;
    }
  }
  const other = tokenLabel(input.tokens[best] ?? '');
  return side === 'query'
    ? `“${label}” attends most to “${other}” (${bestWeight.toFixed(2)}) in head ${m.head + 1}.`
    : `“${other}” attends most to “${label}” (${bestWeight.toFixed(2)}) in head ${m.head + 1}.`;
}

/** Changes whenever what is drawn changes (used by tests to tell drawings apart). */
function signature(input: HeadViewInput): string {
  let hash = 0;
  for (const m of input.matrices) {
    hash = (hash * 31 + m.head) | 0;
    for (let i = 0; i < m.data.length; i += 1) hash = (hash * 31 + Math.round(m.data[i]! * 1e5)) | 0;
  }
  return `${input.matrices.map((m) => m.head).join('+')}:${input.isolate ? `${input.isolate.side}${input.isolate.token}` : '-'}:${(hash >>> 0).toString(16)}`;
}
