/**
 * The attention view's page: toolbar (model, view, layer, heads, exports), caption, token strip (surprisal for
 * causal models, next tokens at the chosen position) and the drawing (head, model or matrix view). It asks the
 * host only for what it draws and keeps its choices across reloads.
 */
import {
  AttentionMessages,
  type AttentionSummary,
  type AttentionViewMode,
  type AttentionViewState,
  type NextPayload,
} from '../../src/protocol/attention';
import { decodeUnit16, decodeUnit8 } from '../../src/protocol/bytes';
import { announce, h, tokenLabel } from '../shared/dom';
import { svgDocument, svgToPng } from '../shared/image';
import { mix, onThemeChange, readTheme, rgb, type Theme } from '../shared/theme';
import { registerToolkit, type CheckedElement, type ValueElement } from '../shared/toolkit';
import { connectToHost, loadState, saveState } from '../shared/vscodeApi';
import { drawHeadView, headViewSize, type Side } from './headView';
import { cellAt, drawMatrix, matrixSvg, type MatrixLayout } from './matrixView';
import { drawModelView, modelSvg, type Thumbnails } from './modelView';

registerToolkit();
const endpoint = connectToHost();

const VIEWS: { id: AttentionViewMode; label: string }[] = [
  { id: 'head', label: 'Head' },
  { id: 'model', label: 'Model' },
  { id: 'matrix', label: 'Matrix' },
];
const THUMB_CELLS = 24;
/** Bits at which the surprisal colour is full. */
const SURPRISAL_FULL = 20;

let state: AttentionViewState = loadState<AttentionViewState>(
  { view: 'head', layer: 0, heads: [0], head: 0 },
  (s) => VIEWS.some((v) => v.id === s.view) && Number.isInteger(s.layer) && Array.isArray(s.heads) && Number.isInteger(s.head),
);
let summary: AttentionSummary | undefined;
let theme: Theme = readTheme();
let busy = false;
/** Matrices of the current summary, by "layer:head". */
let matrices = new Map<string, Float32Array>();
let thumbnails: Thumbnails | undefined;
const requested = new Set<string>();
let pinned: { token: number; side: Side } | null = null;
let hovered: { token: number; side: Side } | null = null;
let matrixCursor: { query: number; key: number } | null = null;
let matrixLayout: MatrixLayout | undefined;
let next: NextPayload | undefined;
let selected = 0;

// ---------------------------------------------------------------------------------------------------- page

const app = document.getElementById('app')!;
app.removeAttribute('aria-busy');
app.replaceChildren();

const modelPicker = h('vscode-dropdown', { id: 'model', 'aria-label': 'Model' }) as ValueElement;
const viewPicker = h('vscode-radio-group', { id: 'view', orientation: 'horizontal', 'aria-label': 'View' }) as ValueElement;
for (const v of VIEWS) viewPicker.append(h('vscode-radio', { value: v.id, id: `view-${v.id}` }, v.label));
const layerPicker = h('vscode-dropdown', { id: 'layer', 'aria-label': 'Layer' }) as ValueElement;
const headPicker = h('div', { id: 'heads', class: 'heads', role: 'group', 'aria-label': 'Heads' });
const headDropdown = h('vscode-dropdown', { id: 'head', 'aria-label': 'Head' }) as ValueElement;
const exportButtons = h(
  'div',
  { class: 'exports', role: 'group', 'aria-label': 'Export' },
  ...(['png', 'svg', 'json', 'csv'] as const).map((format) => {
    const button = h('vscode-button', { appearance: 'secondary', id: `export-${format}`, title: `Export as ${format.toUpperCase()}` }, format.toUpperCase());
    button.addEventListener('click', () => void exportAs(format));
    return button;
  }),
);
const progress = h('vscode-progress-ring', { id: 'busy', 'aria-label': 'Running the model' });
const caption = h('div', { id: 'caption', class: 'caption' });
const strip = h('div', { id: 'strip', class: 'strip', tabindex: 0, role: 'listbox', 'aria-label': 'Tokens' });
const stripLegend = h('div', { id: 'strip-legend', class: 'strip-legend' });
const nextPanel = h('div', { id: 'next', class: 'next', 'aria-live': 'polite' });
const drawing = h('div', {
  id: 'drawing',
  class: 'drawing',
  tabindex: 0,
  role: 'application',
  'aria-roledescription': 'attention drawing',
  'aria-label': 'Attention drawing',
});
const hover = h('div', { id: 'hover-info', class: 'hover-info' });
const message = h('div', { id: 'message', class: 'message' });
const help = h(
  'details',
  { class: 'help' },
  h('summary', {}, 'Keyboard'),
  h(
    'p',
    {},
    'In the drawing: ↑/↓ pick a token (isolate its lines), ←/→ or S switch between its attention from and to, Esc shows all; ' +
      '[ and ] change the head, PageUp/PageDown the layer; 1/2/3 switch to head, model, matrix view. ' +
      'In the matrix view the arrows move a cell cursor; in the model view they move between heads and Enter opens one. ' +
      'In the token strip ←/→ pick a position (GPT-2: its next tokens).',
  ),
);

app.append(
  h(
    'div',
    { class: 'toolbar' },
    h('label', { class: 'field' }, h('span', {}, 'Model'), modelPicker),
    h('label', { class: 'field' }, h('span', {}, 'Layer'), layerPicker),
    h('div', { class: 'field', id: 'head-field' }, h('span', {}, 'Head'), headDropdown, headPicker),
    viewPicker,
    exportButtons,
    progress,
  ),
  caption,
  message,
  strip,
  stripLegend,
  nextPanel,
  drawing,
  hover,
  help,
  h('div', { id: 'live', class: 'visually-hidden', 'aria-live': 'polite' }),
);

function setOptions(dropdown: ValueElement, options: { value: string; label: string }[], value: string): void {
  const current = [...dropdown.children].map((o) => `${o.getAttribute('value')}=${o.textContent}`).join('|');
  const wanted = options.map((o) => `${o.value}=${o.label}`).join('|');
  if (current !== wanted) {
    dropdown.replaceChildren(...options.map((o) => h('vscode-option', { value: o.value }, o.label)));
  }
  if (dropdown.value !== value) queueMicrotask(() => (dropdown.value = value));
}

// ---------------------------------------------------------------------------------------------------- state

function save(): void {
  saveState(state);
}

function clampState(): void {
  if (!summary || summary.layers === 0) return;
  state.layer = Math.min(Math.max(state.layer, 0), summary.layers - 1);
  state.head = Math.min(Math.max(state.head, 0), summary.heads - 1);
  state.heads = [...new Set(state.heads.filter((h) => h >= 0 && h < summary!.heads))];
  if (state.heads.length === 0) state.heads = [state.head];
}

function setLayer(layer: number): void {
  if (!summary || summary.layers === 0) return;
  state.layer = (layer + summary.layers) % summary.layers;
  save();
  render();
  announce(`Layer ${state.layer + 1} of ${summary.layers}`);
}

function setHead(head: number): void {
  if (!summary || summary.heads === 0) return;
  state.head = (head + summary.heads) % summary.heads;
  state.heads = [state.head];
  save();
  render();
  announce(`Head ${state.head + 1} of ${summary.heads}`);
}

function setView(view: AttentionViewMode): void {
  state.view = view;
  hover.textContent = ''; // the matrix view's cell readout
  save();
  render();
  drawing.focus();
}

// ---------------------------------------------------------------------------------------------------- data

function want(layer: number, heads: number[]): Float32Array[] | undefined {
  if (!summary || summary.state !== 'ready') return undefined;
  const missing = heads.filter((head) => !matrices.has(`${layer}:${head}`));
  if (missing.length > 0) {
    const key = `${summary.version}/${layer}:${missing.join(',')}`;
    if (!requested.has(key)) {
      requested.add(key);
      const version = summary.version;
      endpoint
        .sendRequest(AttentionMessages.heads, { version, layer, heads: missing })
        .then((payload) => {
          if (summary?.version !== payload.version) return;
          payload.heads.forEach((head, i) => matrices.set(`${payload.layer}:${head}`, decodeUnit16(payload.matrices[i]!)));
          render();
        })
        .catch((error: Error) => showError(error))
        .finally(() => requested.delete(key));
    }
    return undefined;
  }
  return heads.map((head) => matrices.get(`${layer}:${head}`)!);
}

function wantThumbnails(): Thumbnails | undefined {
  if (thumbnails || !summary || summary.state !== 'ready') return thumbnails;
  const key = `${summary.version}/thumbs`;
  if (!requested.has(key)) {
    requested.add(key);
    endpoint
      .sendRequest(AttentionMessages.thumbnails, { version: summary.version, size: THUMB_CELLS })
      .then((payload) => {
        if (summary?.version !== payload.version) return;
        thumbnails = { layers: payload.layers, heads: payload.heads, size: payload.size, data: decodeUnit8(payload.data) };
        render();
      })
      .catch((error: Error) => showError(error))
      .finally(() => requested.delete(key));
  }
  return undefined;
}

function showError(error: Error & { code?: string }): void {
  if (error.code === 'STALE' || error.code === 'RELOADED' || error.code === 'DISPOSED') return; // a newer summary is on its way
  message.textContent = error.message;
  message.className = 'message error';
}

function requestNext(position: number): void {
  if (!summary || summary.kind !== 'causal-lm' || summary.state !== 'ready') return;
  const version = summary.version;
  endpoint
    .sendRequest(AttentionMessages.next, { version, position })
    .then((payload) => {
      if (summary?.version !== payload.version) return;
      next = payload;
      renderNext();
    })
    .catch((error: Error) => showError(error));
}

// ---------------------------------------------------------------------------------------------------- render

function headColour(head: number) {
  return theme.palette[head % theme.palette.length]!;
}

function renderToolbar(): void {
  const s = summary;
  const models = s?.models ?? [];
  setOptions(
    modelPicker,
    models.map((m) => ({ value: m.id, label: `${m.id} (${m.kind === 'causal-lm' ? 'GPT-2 style' : 'BERT style'})` })),
    s?.model ?? '',
  );
  const layers = s?.layers ?? 0;
  const heads = s?.heads ?? 0;
  setOptions(layerPicker, Array.from({ length: layers }, (_, l) => ({ value: String(l), label: `${l + 1} of ${layers}` })), String(state.layer));
  setOptions(headDropdown, Array.from({ length: heads }, (_, i) => ({ value: String(i), label: `${i + 1} of ${heads}` })), String(state.head));
  if (viewPicker.value !== state.view) viewPicker.value = state.view;
  for (const v of VIEWS) (document.getElementById(`view-${v.id}`) as CheckedElement | null)?.toggleAttribute('checked', v.id === state.view);

  // heads: one checkbox per head in the head view (several heads at once, colour-coded)
  const wanted = `${heads}`;
  if (headPicker.dataset['heads'] !== wanted) {
    headPicker.dataset['heads'] = wanted;
    headPicker.replaceChildren(
      ...Array.from({ length: heads }, (_, i) => {
        const box = h('vscode-checkbox', { 'data-head': i, id: `head-${i}`, 'aria-label': `Head ${i + 1}` }, h('span', { class: 'swatch' }), `${i + 1}`);
        box.addEventListener('change', () => {
          const on = (box as CheckedElement).checked;
          const set = new Set(state.heads);
          if (on) set.add(i);
          else set.delete(i);
          if (set.size === 0) set.add(i); // at least one head
          state.heads = [...set].sort((a, b) => a - b);
          state.head = state.heads[0]!;
          save();
          render();
        });
        return box;
      }),
    );
  }
  for (const box of headPicker.children) {
    const i = Number((box as HTMLElement).dataset['head']);
    const checked = state.heads.includes(i);
    if ((box as CheckedElement).checked !== checked) (box as CheckedElement).checked = checked;
    const swatch = box.querySelector<HTMLElement>('.swatch');
    if (swatch) swatch.style.backgroundColor = rgb(headColour(i));
  }
  headPicker.hidden = state.view !== 'head';
  headDropdown.hidden = state.view !== 'matrix';
  document.getElementById('head-field')!.hidden = state.view === 'model' || heads === 0;
  progress.hidden = !busy;
  for (const button of exportButtons.children) button.toggleAttribute('disabled', !s || s.state !== 'ready');
}

function renderCaption(): void {
  const s = summary;
  if (!s) {
    caption.textContent = 'Starting…';
    return;
  }
  if (s.state !== 'ready') {
    caption.textContent = '';
    message.textContent = s.message ?? (s.state === 'loading' ? 'Running the model…' : '');
    message.className = `message ${s.state}`;
    return;
  }
  message.textContent = '';
  message.className = 'message';
  const parts = [
    `${s.model}`,
    `${s.tokens.length} tokens`,
    `${s.layers} layers × ${s.heads} heads`,
    ...(s.source ? [s.source] : []),
    ...(s.engineMs !== undefined ? [`${s.engineMs} ms`] : []),
  ];
  caption.textContent = parts.join(' · ') + (s.truncated ? ' · cut to a window around the cursor' : '');
}

function renderStrip(): void {
  const s = summary;
  strip.replaceChildren();
  stripLegend.textContent = '';
  if (!s || s.state !== 'ready') return;
  const causal = s.kind === 'causal-lm';
  strip.setAttribute('aria-label', causal ? 'Tokens, coloured by surprisal' : 'Tokens');
  s.tokens.forEach((token, i) => {
    const bits = s.surprisal?.[i];
    const span = h(
      'span',
      {
        class: `tok${s.special[i] ? ' special' : ''}${i === selected ? ' selected' : ''}${i === s.focus ? ' cursor' : ''}`,
        role: 'option',
        'aria-selected': i === selected ? 'true' : 'false',
        'data-index': i,
        title: causal ? (bits === null || bits === undefined ? 'first token: no surprisal' : `surprisal ${bits.toFixed(1)} bits`) : tokenLabel(token),
      },
      tokenLabel(token),
    );
    if (causal && typeof bits === 'number') {
      const colour = mix(theme.background, theme.cold, bits / SURPRISAL_FULL); // linear: differences stay visible
      span.style.backgroundColor = rgb(colour);
      span.style.color = rgb(luminance(colour) > 140 ? [0, 0, 0] : [255, 255, 255]);
    }
    span.addEventListener('click', () => select(i, true));
    strip.append(span);
  });
  stripLegend.textContent = causal ? `Colour: surprisal, from 0 to ${SURPRISAL_FULL} bits (hover a token for its value).` : '';
}

function luminance([r, g, b]: [number, number, number]): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

function renderNext(): void {
  const s = summary;
  nextPanel.replaceChildren();
  if (!s || s.state !== 'ready' || s.kind !== 'causal-lm') {
    nextPanel.hidden = true;
    return;
  }
  nextPanel.hidden = false;
  if (!next || next.position !== selected) {
    nextPanel.textContent = 'Next-token predictions: pick a token in the strip.';
    return;
  }
  const after = tokenLabel(s.tokens[selected] ?? '');
  nextPanel.append(
    h('span', { class: 'next-title' }, `After “${after}” the model expects:`),
    h(
      'ol',
      {},
      ...next.candidates.map((c) =>
        h('li', {}, h('code', {}, JSON.stringify(c.token)), ` ${(c.probability * 100).toFixed(1)}%`),
      ),
    ),
  );
}

function select(token: number, pin: boolean): void {
  if (!summary || summary.state !== 'ready') return;
  selected = Math.min(Math.max(token, 0), summary.tokens.length - 1);
  if (pin) pinned = { token: selected, side: pinned?.side ?? 'query' };
  if (summary.kind === 'causal-lm') requestNext(selected);
  render();
}

let hoverFrame = 0;

function renderDrawing(): void {
  const s = summary;
  const width = Math.max(240, drawing.clientWidth || document.body.clientWidth - 16);
  if (!s || s.state !== 'ready') {
    drawing.replaceChildren();
    return;
  }
  drawing.dataset['view'] = state.view;
  drawing.dataset['layer'] = String(state.layer);
  if (state.view === 'head') {
    const data = want(state.layer, state.heads);
    if (!data) return; // keep the old drawing until the new weights arrive
    const isolate = hovered ?? pinned;
    const element = drawHeadView({
      tokens: s.tokens,
      special: s.special,
      matrices: state.heads.map((head, i) => ({ head, colour: headColour(head), data: data[i]! })),
      isolate,
      cursor: s.focus,
      theme,
      width,
    });
    drawing.dataset['heads'] = state.heads.join(',');
    drawing.setAttribute('aria-label', `Head view, layer ${state.layer + 1}. ${element.getAttribute('aria-label') ?? ''}`);
    element.addEventListener('mouseover', (event) => {
      const cell = (event.target as Element).closest('.token') as SVGGElement | null;
      if (!cell) return;
      const next = { token: Number(cell.dataset['index']), side: cell.dataset['side'] as Side };
      if (hovered?.token === next.token && hovered.side === next.side) return;
      hovered = next;
      cancelAnimationFrame(hoverFrame);
      hoverFrame = requestAnimationFrame(() => renderDrawing());
    });
    element.addEventListener('mouseleave', () => {
      hovered = null;
      cancelAnimationFrame(hoverFrame);
      hoverFrame = requestAnimationFrame(() => renderDrawing());
    });
    element.addEventListener('click', (event) => {
      const cell = (event.target as Element).closest('.token') as SVGGElement | null;
      if (!cell) return;
      const token = Number(cell.dataset['index']);
      const side = cell.dataset['side'] as Side;
      pinned = pinned?.token === token && pinned.side === side ? null : { token, side };
      selected = token;
      if (s.kind === 'causal-lm') requestNext(token);
      render();
    });
    drawing.replaceChildren(element);
  } else if (state.view === 'matrix') {
    const [data] = want(state.layer, [state.head]) ?? [];
    if (!data) return;
    const canvas = h('canvas', { id: 'matrix', 'aria-hidden': 'true' });
    matrixLayout = drawMatrix(canvas, {
      tokens: s.tokens,
      data,
      theme,
      width,
      cursor: matrixCursor,
      title: `Layer ${state.layer + 1}, head ${state.head + 1}: rows attend to columns`,
    });
    drawing.dataset['heads'] = String(state.head);
    const title = h('div', { class: 'drawing-title' }, `Layer ${state.layer + 1}, head ${state.head + 1}: each row (query) attends to the columns (keys)`);
    canvas.addEventListener('mousemove', (event) => {
      const rect = canvas.getBoundingClientRect();
      const cell = matrixLayout && cellAt(matrixLayout, s.tokens.length, event.clientX - rect.left, event.clientY - rect.top);
      hover.textContent = cell ? cellText(cell.query, cell.key, data) : '';
    });
    canvas.addEventListener('click', (event) => {
      const rect = canvas.getBoundingClientRect();
      const cell = matrixLayout && cellAt(matrixLayout, s.tokens.length, event.clientX - rect.left, event.clientY - rect.top);
      if (cell) {
        matrixCursor = cell;
        renderDrawing();
      }
    });
    drawing.setAttribute('aria-label', `Matrix view, layer ${state.layer + 1}, head ${state.head + 1}. ${matrixCursor ? cellText(matrixCursor.query, matrixCursor.key, data) : 'Arrow keys move a cell cursor.'}`);
    drawing.replaceChildren(title, canvas);
  } else {
    const thumbs = wantThumbnails();
    if (!thumbs) return;
    const grid = drawModelView(thumbs, theme, width, { layer: state.layer, head: state.head }, (layer, head) => {
      state.layer = layer;
      state.head = head;
      state.heads = [head];
      setView('head');
      announce(`Opened layer ${layer + 1}, head ${head + 1}`);
    });
    drawing.dataset['heads'] = '';
    drawing.setAttribute('aria-label', 'Model view: every layer and head');
    drawing.replaceChildren(grid);
  }
}

function cellText(query: number, key: number, data: Float32Array): string {
  const n = summary?.tokens.length ?? 0;
  const q = tokenLabel(summary?.tokens[query] ?? '');
  const k = tokenLabel(summary?.tokens[key] ?? '');
  return `“${q}” → “${k}”: ${data[query * n + key]!.toFixed(3)}`;
}

function render(): void {
  clampState();
  renderToolbar();
  renderCaption();
  renderStrip();
  renderNext();
  renderDrawing();
}

// ---------------------------------------------------------------------------------------------------- export

async function exportAs(format: 'png' | 'svg' | 'json' | 'csv'): Promise<void> {
  const s = summary;
  if (!s || s.state !== 'ready') return;
  try {
    if (format === 'json' || format === 'csv') {
      const scope = state.view === 'model' ? 'all' : state.view === 'head' && state.heads.length > 1 ? 'layer' : 'head';
      const head = state.view === 'head' ? state.heads[0]! : state.head;
      await endpoint.sendRequest(AttentionMessages.exportData, { version: s.version, format, scope, layer: state.layer, head });
      return;
    }
    const image = currentImage();
    if (!image) return;
    const data = format === 'svg' ? image.text : await svgToPng(image.text, image.width, image.height);
    await endpoint.sendRequest(AttentionMessages.saveImage, { format, data, name: image.name });
  } catch (error) {
    showError(error as Error);
  }
}

function currentImage(): { text: string; width: number; height: number; name: string } | undefined {
  const s = summary!;
  const base = `attention-${s.model}-L${state.layer + 1}`;
  if (state.view === 'head') {
    const element = drawing.querySelector('svg');
    if (!element) return undefined;
    const { width, height } = headViewSize(s.tokens.length, Number(element.getAttribute('width')));
    return { text: svgDocument(element), width, height, name: `${base}-H${state.heads.map((h) => h + 1).join('+')}` };
  }
  if (state.view === 'matrix') {
    const data = matrices.get(`${state.layer}:${state.head}`);
    if (!data) return undefined;
    const title = `${s.model}, layer ${state.layer + 1}, head ${state.head + 1}`;
    return { ...matrixSvg({ tokens: s.tokens, data, theme, width: 0, cursor: null, title }), name: `${base}-H${state.head + 1}-matrix` };
  }
  if (!thumbnails) return undefined;
  return { ...modelSvg(thumbnails, theme, `${s.model}: ${s.layers} layers × ${s.heads} heads`), name: `attention-${s.model}-model` };
}

// ---------------------------------------------------------------------------------------------------- input

modelPicker.addEventListener('change', () => {
  const model = modelPicker.value;
  if (!model || model === summary?.model) return;
  endpoint.sendRequest(AttentionMessages.selectModel, { model }).catch((error: Error) => showError(error));
});
viewPicker.addEventListener('change', () => {
  const view = viewPicker.value as AttentionViewMode;
  if (VIEWS.some((v) => v.id === view) && view !== state.view) setView(view);
});
layerPicker.addEventListener('change', () => {
  const layer = Number(layerPicker.value);
  if (Number.isInteger(layer) && layer !== state.layer) {
    state.layer = layer;
    save();
    render();
  }
});
headDropdown.addEventListener('change', () => {
  const head = Number(headDropdown.value);
  if (Number.isInteger(head) && head !== state.head) setHead(head);
});

strip.addEventListener('keydown', (event) => {
  if (!summary || summary.state !== 'ready') return;
  const moves: Record<string, number> = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -1, ArrowDown: 1 };
  if (event.key in moves) select(selected + moves[event.key]!, true);
  else if (event.key === 'Home') select(0, true);
  else if (event.key === 'End') select(summary.tokens.length - 1, true);
  else return;
  event.preventDefault();
  strip.querySelector<HTMLElement>('.tok.selected')?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
});

drawing.addEventListener('keydown', (event) => {
  const s = summary;
  if (!s || s.state !== 'ready' || event.altKey || event.ctrlKey || event.metaKey) return;
  const n = s.tokens.length;
  const key = event.key;
  let handled = true;
  if (key === '1' || key === '2' || key === '3') setView(VIEWS[Number(key) - 1]!.id);
  else if (key === 'PageUp') setLayer(state.layer - 1);
  else if (key === 'PageDown') setLayer(state.layer + 1);
  else if (key === '[') setHead((state.view === 'head' ? state.heads[0]! : state.head) - 1);
  else if (key === ']') setHead((state.view === 'head' ? state.heads[0]! : state.head) + 1);
  else if (state.view === 'head') {
    const current = pinned ?? { token: s.focus, side: 'query' as Side };
    if (key === 'ArrowDown' || key === 'ArrowUp') {
      const token = pinned ? Math.min(Math.max(current.token + (key === 'ArrowDown' ? 1 : -1), 0), n - 1) : current.token;
      pinned = { token, side: current.side };
    } else if (key === 'Home' || key === 'End') pinned = { token: key === 'Home' ? 0 : n - 1, side: current.side };
    else if (key === 'ArrowLeft' || key === 'ArrowRight' || key === 's' || key === 'S') {
      pinned = { token: current.token, side: key === 'ArrowLeft' ? 'query' : key === 'ArrowRight' ? 'key' : current.side === 'query' ? 'key' : 'query' };
    } else if (key === 'Escape') pinned = null;
    else handled = false;
    if (handled && pinned) {
      selected = pinned.token;
      if (s.kind === 'causal-lm') requestNext(selected);
    }
    if (handled) {
      render();
      drawing.querySelector('svg')?.querySelector(`.tokens.${pinned?.side ?? 'query'} .token[data-index="${pinned?.token ?? 0}"]`)?.scrollIntoView({ block: 'nearest' });
      announce(drawing.querySelector('svg')?.getAttribute('aria-label') ?? '');
    }
  } else if (state.view === 'matrix') {
    const moves: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const move = moves[key];
    if (move) {
      const c = matrixCursor ?? { query: s.focus, key: s.focus };
      matrixCursor = matrixCursor
        ? { query: Math.min(Math.max(c.query + move[0], 0), n - 1), key: Math.min(Math.max(c.key + move[1], 0), n - 1) }
        : c;
      renderDrawing();
      const data = matrices.get(`${state.layer}:${state.head}`);
      if (data) {
        hover.textContent = cellText(matrixCursor.query, matrixCursor.key, data);
        announce(hover.textContent);
      }
    } else if (key === 'Escape') {
      matrixCursor = null;
      hover.textContent = '';
      renderDrawing();
    } else handled = false;
  } else if (state.view === 'model' && (key.startsWith('Arrow') || key === 'Enter' || key === ' ')) {
    // the grid moves the focus between thumbnails: hand it the key
    const thumb = drawing.querySelector<HTMLElement>('.thumb[tabindex="0"]');
    thumb?.focus();
    thumb?.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true }));
  } else handled = false;
  if (handled) event.preventDefault();
});

// focus given to the view (LM Lens: Show Attention, or clicking its title) lands on the drawing
window.addEventListener('focus', () => {
  if (document.activeElement === document.body || document.activeElement === null) drawing.focus();
});

new ResizeObserver(() => {
  cancelAnimationFrame(hoverFrame);
  hoverFrame = requestAnimationFrame(() => renderDrawing());
}).observe(drawing);

onThemeChange(() => {
  theme = readTheme();
  render();
});

// ---------------------------------------------------------------------------------------------------- host

endpoint.onNotification(AttentionMessages.summary, (s) => {
  const changed = summary?.version !== s.version;
  const sameText = summary && summary.tokens.join('\u0000') === s.tokens.join('\u0000') && summary.model === s.model;
  summary = s;
  if (changed) {
    matrices = new Map();
    thumbnails = undefined;
    next = undefined;
    matrixCursor = null;
    if (!sameText) pinned = null;
    selected = s.focus;
    if (s.state === 'ready' && s.kind === 'causal-lm') requestNext(selected);
  }
  render();
  if (s.state === 'ready') announce(`${s.model}: ${s.tokens.length} tokens`);
});

endpoint.onNotification(AttentionMessages.focus, ({ version, focus }) => {
  if (!summary || summary.version !== version) return;
  summary = { ...summary, focus };
  selected = focus;
  if (summary.kind === 'causal-lm') requestNext(selected);
  render();
});

endpoint.onNotification(AttentionMessages.busy, ({ busy: value }) => {
  busy = value;
  progress.hidden = !busy;
});

endpoint.onNotification(AttentionMessages.command, (command) => {
  if (command.command === 'view' && command.view) setView(command.view);
  else if (command.command === 'exportPng') void exportAs('png');
  else if (command.command === 'exportSvg') void exportAs('svg');
  else if (command.command === 'exportJson') void exportAs('json');
  else if (command.command === 'exportCsv') void exportAs('csv');
});

render();
endpoint.sendReady();
