import * as path from 'node:path';
import * as vscode from 'vscode';
import { readConfig } from '../../config';
import type { Engine } from '../../engine/engine';
import { describeError, log } from '../../log';
import { LayersMessages, type LayersSummary, type LayersViewState } from '../../protocol/layers';
import type { Endpoint } from '../../protocol/rpc';
import { DisposableBase } from '../../webviewHost/disposable';
import { imageBytes, saveExport } from '../../webviewHost/saveFile';
import { connectWebview, setWebviewPage, webviewOptions } from '../../webviewHost/webviewChannel';
import { isCancellation } from '../cancellation';
import type { EngineService } from '../engineService';
import { textSource } from '../hover/embeddingHoverProvider';
import { clusterGrouping, LayersData, senseGrouping, type EmbeddedOccurrence, type Grouping } from './layersData';
import { findOccurrences } from './occurrences';

export const LAYERS_VIEW_TYPE = 'lmLens.layers';
const TARGET_KEY = 'lmLens.layers.target';

/** The part of the engine's word-sense operation (issue 4) the panel uses, when the engine has it. */
interface SenseEngine {
  sense(request: { text: string; word: string; occurrence?: number }, signal?: AbortSignal): Promise<{ synset: string; gloss: string }>;
}

function hasSense(engine: unknown): engine is SenseEngine {
  return typeof (engine as Partial<SenseEngine> | undefined)?.sense === 'function';
}

/**
 * Colours for the occurrences: the sense the engine chooses for each, or (no sense operation, or it fails)
 * clusters of the top-layer vectors, saying why.
 */
async function groupOccurrences(
  engine: Engine,
  items: readonly EmbeddedOccurrence[],
  signal: AbortSignal,
  progress: (message: string) => void,
): Promise<Grouping> {
  if (!hasSense(engine)) return clusterGrouping(items);
  const senses: { synset: string; gloss: string }[] = [];
  try {
    for (const [i, { found }] of items.entries()) {
      progress(`Choosing the sense of “${found.context.word}”: ${i + 1} of ${items.length}…`);
      const { text, word, occurrence } = found.context;
      senses.push(await engine.sense({ text, word, occurrence }, signal));
    }
    return senseGrouping(senses);
  } catch (error) {
    if (isCancellation(error) || signal.aborted) throw error;
    log.info(`layers: no senses (${describeError(error)}); colouring by clusters`);
    const fallback = clusterGrouping(items);
    const why = error instanceof Error ? error.message : String(error);
    return { ...fallback, note: fallback.note.replace('no sense model is available', `the senses could not be chosen: ${why}`) };
  }
}

export interface LayersTarget {
  uri: vscode.Uri;
  position: vscode.Position;
}

/**
 * The `lmLens.showLayers` argument: `{ uri, position }` where `uri` is a Uri, its JSON form (a command link's
 * argument) or a string, and `position` is `{ line, character }`. Undefined for anything else.
 */
export function parseLayersTarget(argument: unknown): LayersTarget | undefined {
  if (typeof argument !== 'object' || argument === null) return undefined;
  const { uri, position } = argument as { uri?: unknown; position?: unknown };
  let parsed: vscode.Uri | undefined;
  try {
    if (uri instanceof vscode.Uri) parsed = uri;
    else if (typeof uri === 'string') parsed = vscode.Uri.parse(uri, true);
    else if (typeof uri === 'object' && uri !== null && typeof (uri as { scheme?: unknown }).scheme === 'string') {
      parsed = vscode.Uri.from(uri as { scheme: string; path?: string; authority?: string; query?: string; fragment?: string });
    }
  } catch {
    return undefined;
  }
  const { line, character } = (position ?? {}) as { line?: unknown; character?: unknown };
  if (!parsed || !Number.isInteger(line) || !Number.isInteger(character) || (line as number) < 0 || (character as number) < 0) {
    return undefined;
  }
  return { uri: parsed, position: new vscode.Position(line as number, character as number) };
}

function activeTarget(): LayersTarget | undefined {
  const editor = vscode.window.activeTextEditor;
  return editor ? { uri: editor.document.uri, position: editor.selection.active } : undefined;
}

/**
 * The Layers panel: the word under the cursor in every sentence of the document where it occurs, embedded by
 * ELMo; per layer, how alike its occurrences are (cosine matrix) and where they fall (PCA). One panel, reused.
 */
export class LayersPanel extends DisposableBase {
  private static current: LayersPanel | undefined;

  private readonly endpoint: Endpoint;
  private data: LayersData | undefined;
  private target: LayersTarget | undefined;
  private lastSummary: LayersSummary | undefined;
  private version = 0;
  private running: AbortController | undefined;

  /** `LM Lens: Show Layers` (and the hover's link): the panel for `target`, or the word at the cursor. */
  static show(extensionUri: vscode.Uri, engines: EngineService, memento: vscode.Memento, argument?: unknown): void {
    const target = parseLayersTarget(argument) ?? activeTarget();
    if (!target) {
      void vscode.window.showInformationMessage('LM Lens: put the cursor on a word in a text editor to see its layers.');
      return;
    }
    if (LayersPanel.current) {
      LayersPanel.current.panel.reveal(undefined, false);
      void LayersPanel.current.load(target);
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      LAYERS_VIEW_TYPE,
      'LM Lens: Layers',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false },
      webviewOptions(extensionUri),
    );
    LayersPanel.current = new LayersPanel(panel, extensionUri, engines, memento);
    void LayersPanel.current.load(target);
  }

  /** A panel VS Code restored after a reload, with the state its webview saved. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, engines: EngineService, memento: vscode.Memento, state: unknown): void {
    panel.webview.options = webviewOptions(extensionUri);
    LayersPanel.current?.dispose();
    const revived = new LayersPanel(panel, extensionUri, engines, memento);
    LayersPanel.current = revived;
    // the webview's saved state, else what the host remembered (the webview's last state may not have been
    // saved when the window closed)
    const s = { ...memento.get<Partial<LayersViewState>>(TARGET_KEY), ...((state ?? {}) as Partial<LayersViewState>) };
    log.info(`layers: restoring the panel for ${JSON.stringify(s)}`);
    const target = parseLayersTarget({ uri: s.uri, position: { line: s.line, character: s.character } });
    if (target) void revived.load(target);
    else revived.post(revived.idle('Put the cursor on a word and run “LM Lens: Show Layers”.'));
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly engines: EngineService,
    private readonly memento: vscode.Memento,
  ) {
    super();
    const { endpoint, disposable } = connectWebview(panel.webview, 'layers');
    this.endpoint = endpoint;
    this._register(disposable);
    this._register(panel.onDidDispose(() => this.dispose()));
    this._register({ dispose: () => this.running?.abort() });
    this._register(endpoint.onReady(() => this.lastSummary && endpoint.sendNotification(LayersMessages.summary, this.lastSummary)));
    this._register(endpoint.onRequest(LayersMessages.vectors, (p) => this.dataFor(p.version).vectors(p.version, p.occurrence)));
    this._register(endpoint.onRequest(LayersMessages.layer, (p) => this.dataFor(p.version).layer(p.version, p.layer)));
    this._register(endpoint.onRequest(LayersMessages.reveal, async (p) => {
      await this.reveal(p.version, p.occurrence);
      return null;
    }));
    this._register(endpoint.onRequest(LayersMessages.saveImage, (p) => saveExport(p.name, p.format, imageBytes(p.format, p.data))));
    setWebviewPage(panel.webview, extensionUri, 'layers', 'LM Lens: Layers');
  }

  override dispose(): void {
    if (LayersPanel.current === this) LayersPanel.current = undefined;
    super.dispose();
    this.panel.dispose();
  }

  private dataFor(version: number): LayersData {
    if (!this.data || version !== this.version) {
      throw Object.assign(new Error('The panel shows an older word; ask again.'), { code: 'STALE' });
    }
    return this.data;
  }

  private post(summary: LayersSummary): void {
    this.lastSummary = summary;
    this.endpoint.sendNotification(LayersMessages.summary, summary);
  }

  private idle(message: string, state: LayersSummary['state'] = 'idle'): LayersSummary {
    this.data = undefined;
    return {
      version: ++this.version,
      state,
      message,
      layerNames: [],
      dims: 0,
      occurrences: [],
      moreOccurrences: false,
      current: 0,
      grouping: { by: 'cluster', labels: [], note: '' },
      ...(this.target
        ? { uri: this.target.uri.toString(), line: this.target.position.line, character: this.target.position.character }
        : {}),
    };
  }

  private async load(target: LayersTarget): Promise<void> {
    this.running?.abort();
    const controller = new AbortController();
    this.running = controller;
    this.target = target;
    const where = { uri: target.uri.toString(), line: target.position.line, character: target.position.character };
    void this.memento.update(TARGET_KEY, where);
    const { signal } = controller;
    const busy = (message: string) => this.endpoint.sendNotification(LayersMessages.busy, { busy: true, message });
    try {
      const document = await vscode.workspace.openTextDocument(target.uri);
      const search = findOccurrences(textSource(document), target.position.line, target.position.character);
      if (!search) {
        this.post(this.idle('There is no word at the cursor. Put it on a word and run “LM Lens: Show Layers”.'));
        return;
      }
      this.panel.title = `LM Lens: Layers — ${search.word}`;
      const model = readConfig().models.elmo;
      busy(`Embedding “${search.word}” in ${search.occurrences.length} sentences…`);
      const engine: Engine = await this.engines.get();
      const items: EmbeddedOccurrence[] = [];
      const kept: number[] = [];
      let failure: unknown;
      let modelId = model;
      for (const [i, found] of search.occurrences.entries()) {
        if (signal.aborted) return;
        busy(`Embedding “${search.word}”: ${i + 1} of ${search.occurrences.length}…`);
        const { text, word, occurrence } = found.context;
        try {
          const result = await engine.embed({ text, word, occurrence, model }, signal);
          modelId = result.model;
          items.push({ found, layers: result.layers });
          kept.push(i);
        } catch (error) {
          if (isCancellation(error) || signal.aborted) return;
          failure = error;
          log.warn(`layers: "${word}" at line ${found.line + 1}: ${describeError(error)}`);
          if ((error as { code?: unknown }).code !== 'BAD_INPUT') break; // the model itself fails: stop here
        }
      }
      if (items.length === 0) {
        this.post(this.idle(`Could not embed “${search.word}”: ${describeError(failure)}`, 'error'));
        return;
      }
      const grouping = await groupOccurrences(engine, items, signal, busy);
      if (signal.aborted) return;
      const current = Math.max(0, kept.indexOf(search.current));
      this.data = new LayersData(search.word, modelId, items, grouping, current, search.more);
      this.version++;
      const summary = this.data.summary(this.version, path.basename(document.fileName), {
        uri: target.uri.toString(),
        line: target.position.line,
        character: target.position.character,
      });
      this.post(summary);
      log.debug(`layers: "${search.word}" in ${items.length} sentences with ${modelId}`);
    } catch (error) {
      if (isCancellation(error) || signal.aborted) return;
      log.error(`layers: ${describeError(error)}`);
      this.post(this.idle(describeError(error), 'error'));
      // a command the user ran: say it
      void vscode.window.showErrorMessage(`LM Lens: could not show the layers: ${describeError(error)}`);
    } finally {
      if (this.running === controller) {
        this.running = undefined;
        this.endpoint.sendNotification(LayersMessages.busy, { busy: false });
      }
    }
  }

  /** Shows an occurrence in its editor (beside the panel), the word selected. */
  private async reveal(version: number, occurrence: number): Promise<void> {
    const data = this.dataFor(version);
    const item = data.items[occurrence];
    if (!item || !this.target) throw Object.assign(new Error(`No occurrence ${occurrence}.`), { code: 'BAD_INPUT' });
    const { line, character } = item.found;
    const range = new vscode.Range(line, character, line, character + item.found.context.word.length);
    const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === this.target!.uri.toString());
    const column = visible?.viewColumn ?? (this.panel.viewColumn === vscode.ViewColumn.One ? vscode.ViewColumn.Two : vscode.ViewColumn.One);
    await vscode.window.showTextDocument(this.target.uri, { selection: range, viewColumn: column, preserveFocus: false });
  }
}
