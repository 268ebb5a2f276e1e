/**
 * The Layers panel's page: the word's vector at each ELMo layer (heat map), the list of its occurrences
 * (click or Enter reveals one in the editor), and per layer the cosine matrix and PCA of all occurrences.
 */
import { LayersMessages, type LayerPayload, type LayersSummary, type LayersViewState, type VectorsPayload } from '../../src/protocol/layers';
import { announce, h } from '../shared/dom';
import { svgDocument, svgToPng } from '../shared/image';
import { onThemeChange, readTheme, rgb, type Theme } from '../shared/theme';
import { registerToolkit, type ValueElement } from '../shared/toolkit';
import { connectToHost, loadState, saveState } from '../shared/vscodeApi';
import { layerFigure, vectorHeatmap } from './charts';

registerToolkit();
const endpoint = connectToHost();

let state: LayersViewState = loadState<LayersViewState>({ layer: -1 }, (s) => Number.isInteger(s.layer));
let summary: LayersSummary | undefined;
let theme: Theme = readTheme();
let vectors: VectorsPayload | undefined;
const layers = new Map<number, LayerPayload>();
let occurrence = 0;

const app = document.getElementById('app')!;
app.removeAttribute('aria-busy');
app.replaceChildren();

const title = h('h1', { id: 'title' }, 'Layers');
const caption = h('div', { class: 'caption', id: 'caption' });
const message = h('div', { class: 'message', id: 'message' });
const progress = h('vscode-progress-ring', { id: 'busy', 'aria-label': 'Embedding' });
progress.hidden = true;
const layerPicker = h('vscode-radio-group', { id: 'layer', orientation: 'horizontal', 'aria-label': 'Layer' }) as ValueElement;
const exports = h(
  'div',
  { class: 'exports', role: 'group', 'aria-label': 'Export the layer figure' },
  ...(['png', 'svg'] as const).map((format) => {
    const button = h('vscode-button', { appearance: 'secondary', id: `export-${format}` }, format.toUpperCase());
    button.addEventListener('click', () => void exportFigure(format));
    return button;
  }),
);
const heatmapTitle = h('h2', {}, 'Vectors at each layer');
const heatmap = h('div', { id: 'heatmap', class: 'figure' });
const listTitle = h('h2', {}, 'Occurrences');
const list = h('ol', { id: 'occurrences', class: 'occurrences', 'aria-label': 'Occurrences: Enter reveals in the editor, Space shows its vectors' });
const figureTitle = h('h2', { id: 'figure-title' }, 'Occurrences at this layer');
const legend = h('div', { id: 'legend', class: 'legend' });
const figure = h('div', { id: 'figure', class: 'figure' });

app.append(
  h('div', { class: 'header' }, title, progress),
  caption,
  message,
  h('div', { class: 'toolbar' }, h('span', { class: 'field-label' }, 'Layer'), layerPicker, exports),
  heatmapTitle,
  heatmap,
  listTitle,
  list,
  figureTitle,
  legend,
  figure,
  h('div', { id: 'live', class: 'visually-hidden', 'aria-live': 'polite' }),
);

function save(): void {
  saveState({
    ...state,
    ...(summary?.uri ? { uri: summary.uri, line: summary.line, character: summary.character } : {}),
    occurrence,
  });
}

function width(): number {
  return Math.max(280, app.clientWidth || document.body.clientWidth - 24);
}

function currentLayer(): number {
  const count = summary?.layerNames.length ?? 0;
  if (count === 0) return 0;
  return state.layer < 0 || state.layer >= count ? count - 1 : state.layer;
}

function ready(): LayersSummary | undefined {
  return summary?.state === 'ready' ? summary : undefined;
}

function requestVectors(index: number): void {
  const s = ready();
  if (!s) return;
  endpoint
    .sendRequest(LayersMessages.vectors, { version: s.version, occurrence: index })
    .then((payload) => {
      if (summary?.version !== payload.version) return;
      vectors = payload;
      renderHeatmap();
    })
    .catch(showError);
}

function requestLayer(layer: number): void {
  const s = ready();
  if (!s || layers.has(layer)) return;
  endpoint
    .sendRequest(LayersMessages.layer, { version: s.version, layer })
    .then((payload) => {
      if (summary?.version !== payload.version) return;
      layers.set(payload.layer, payload);
      renderFigure();
    })
    .catch(showError);
}

function showError(error: Error & { code?: string }): void {
  if (error.code === 'STALE' || error.code === 'RELOADED' || error.code === 'DISPOSED') return;
  message.textContent = error.message;
  message.className = 'message error';
}

function renderHeader(): void {
  const s = summary;
  if (!s || s.state !== 'ready') {
    title.textContent = 'Layers';
    caption.textContent = '';
    message.textContent = s?.message ?? 'Starting…';
    message.className = `message ${s?.state ?? ''}`;
    return;
  }
  message.textContent = '';
  message.className = 'message';
  title.textContent = `“${s.word}” in ${s.document}`;
  const count = `${s.occurrences.length} occurrence${s.occurrences.length === 1 ? '' : 's'}${s.moreOccurrences ? ' (the nearest ones)' : ''}`;
  caption.textContent = `${count} · ${s.model} · ${s.layerNames.length} layers × ${s.dims} dimensions`;
  const names = s.layerNames.map((n, i) => `${i}=${n}`).join('|');
  if (layerPicker.dataset['names'] !== names) {
    layerPicker.dataset['names'] = names;
    layerPicker.replaceChildren(...s.layerNames.map((name, i) => h('vscode-radio', { value: String(i), id: `layer-${i}` }, name)));
  }
  const value = String(currentLayer());
  if (layerPicker.value !== value) queueMicrotask(() => (layerPicker.value = value));
}

function renderHeatmap(): void {
  const s = ready();
  if (!s) {
    heatmap.replaceChildren();
    return;
  }
  if (!vectors || vectors.occurrence !== occurrence) {
    requestVectors(occurrence);
    return;
  }
  const o = s.occurrences[occurrence];
  heatmapTitle.textContent = o ? `Vectors of “${o.word}” at each layer — occurrence ${occurrence + 1} (line ${o.line + 1})` : 'Vectors at each layer';
  heatmap.replaceChildren(vectorHeatmap(vectors.layerNames, vectors.vectors, theme, width()));
}

function renderList(): void {
  const s = ready();
  list.replaceChildren();
  if (!s) return;
  s.occurrences.forEach((o, i) => {
    const item = h(
      'li',
      {
        class: `occurrence${i === occurrence ? ' selected' : ''}`,
        tabindex: i === occurrence ? 0 : -1,
        role: 'button',
        'data-index': i,
        'aria-label': `Occurrence ${i + 1}, line ${o.line + 1}: ${o.before}${o.word}${o.after}. Enter reveals it in the editor.`,
      },
      h('span', { class: 'dot', 'aria-hidden': 'true' }),
      h('span', { class: 'where' }, `${i + 1}. line ${o.line + 1}`),
      h('span', { class: 'sentence' }, trimLeft(o.before), h('mark', {}, o.word), trimRight(o.after)),
    );
    (item.querySelector('.dot') as HTMLElement).style.backgroundColor = rgb(theme.palette[o.group % theme.palette.length]!);
    item.addEventListener('click', () => {
      choose(i);
      reveal(i);
    });
    list.append(item);
  });
}

function trimLeft(text: string, max = 70): string {
  return text.length > max ? '…' + text.slice(-max) : text;
}

function trimRight(text: string, max = 70): string {
  return text.length > max ? text.slice(0, max) + '…' : text;
}

function renderFigure(): void {
  const s = ready();
  if (!s) {
    figure.replaceChildren();
    legend.replaceChildren();
    return;
  }
  const layer = currentLayer();
  const payload = layers.get(layer);
  figureTitle.textContent = `All occurrences at layer “${s.layerNames[layer]}”`;
  legend.replaceChildren(
    ...s.grouping.labels.map((label, g) => {
      const swatch = h('span', { class: 'dot', 'aria-hidden': 'true' });
      swatch.style.backgroundColor = rgb(theme.palette[g % theme.palette.length]!);
      return h('span', { class: 'legend-item' }, swatch, label);
    }),
    h('span', { class: 'note' }, s.grouping.note),
  );
  if (!payload) {
    requestLayer(layer);
    return;
  }
  figure.replaceChildren(
    layerFigure({
      title: `${s.word} — ${s.layerNames[layer]}`,
      cosine: payload.cosine,
      points: payload.points,
      explained: payload.explained,
      groups: s.occurrences.map((o) => o.group),
      labels: s.grouping.labels,
      current: occurrence,
      theme,
      width: width(),
    }),
  );
}

function render(): void {
  renderHeader();
  renderHeatmap();
  renderList();
  renderFigure();
}

function choose(index: number): void {
  const s = ready();
  if (!s) return;
  occurrence = Math.min(Math.max(index, 0), s.occurrences.length - 1);
  save();
  renderHeatmap();
  renderList();
  renderFigure();
  list.querySelector<HTMLElement>('.occurrence.selected')?.focus();
  const o = s.occurrences[occurrence]!;
  announce(`Occurrence ${occurrence + 1} of ${s.occurrences.length}, line ${o.line + 1}`);
}

function reveal(index: number): void {
  const s = ready();
  if (!s) return;
  endpoint.sendRequest(LayersMessages.reveal, { version: s.version, occurrence: index }).catch(showError);
}

async function exportFigure(format: 'png' | 'svg'): Promise<void> {
  const element = figure.querySelector('svg');
  const s = ready();
  if (!element || !s) return;
  const text = svgDocument(element);
  const data = format === 'svg' ? text : await svgToPng(text, Number(element.getAttribute('width')), Number(element.getAttribute('height')));
  const name = `layers-${s.word}-${s.layerNames[currentLayer()]}`;
  await endpoint.sendRequest(LayersMessages.saveImage, { format, data, name }).catch(showError);
}

list.addEventListener('keydown', (event) => {
  const s = ready();
  if (!s) return;
  if (event.key === 'ArrowDown') choose(occurrence + 1);
  else if (event.key === 'ArrowUp') choose(occurrence - 1);
  else if (event.key === 'Home') choose(0);
  else if (event.key === 'End') choose(s.occurrences.length - 1);
  else if (event.key === 'Enter') reveal(occurrence);
  else if (event.key === ' ') choose(occurrence);
  else return;
  event.preventDefault();
});

layerPicker.addEventListener('change', () => {
  const layer = Number(layerPicker.value);
  if (!Number.isInteger(layer) || layer === currentLayer()) return;
  state.layer = layer;
  save();
  renderFigure();
  announce(`Layer ${summary?.layerNames[layer] ?? layer + 1}`);
});

// focus given to the panel lands on the occurrence list
window.addEventListener('focus', () => {
  if (document.activeElement === document.body || document.activeElement === null) {
    list.querySelector<HTMLElement>('.occurrence.selected')?.focus();
  }
});

new ResizeObserver(() => requestAnimationFrame(() => {
  renderHeatmap();
  renderFigure();
})).observe(app);

onThemeChange(() => {
  theme = readTheme();
  render();
});

endpoint.onNotification(LayersMessages.summary, (s) => {
  const sameWord = summary?.uri === s.uri && summary?.word === s.word;
  summary = s;
  layers.clear();
  vectors = undefined;
  if (!sameWord || occurrence >= s.occurrences.length) occurrence = s.current;
  if (sameWord === false && state.occurrence !== undefined && state.occurrence < s.occurrences.length && s.uri === state.uri) {
    occurrence = state.occurrence; // a revived panel: where the user was
  }
  save();
  render();
  if (s.state === 'ready') announce(`${s.occurrences.length} occurrences of ${s.word}`);
});

endpoint.onNotification(LayersMessages.busy, ({ busy, message: text }) => {
  progress.hidden = !busy;
  if (busy && text && summary?.state !== 'ready') {
    message.textContent = text;
    message.className = 'message loading';
  }
  if (busy && text) caption.dataset['busy'] = text;
});

render();
endpoint.sendReady();
