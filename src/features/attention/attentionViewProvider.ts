import * as path from 'node:path';
import * as vscode from 'vscode';
import { readConfig } from '../../config';
import type { AttentionResult, ModelInfo } from '../../engine/api';
import { canShowAttention } from '../../engine/tasks/attention/attentionTensor';
import type { Engine } from '../../engine/engine';
import { describeError, log } from '../../log';
import {
  AttentionMessages,
  type AttentionCommand,
  type AttentionModelChoice,
  type AttentionSummary,
} from '../../protocol/attention';
import type { Endpoint } from '../../protocol/rpc';
import { DisposableBase } from '../../webviewHost/disposable';
import { imageBytes, saveExport } from '../../webviewHost/saveFile';
import { connectWebview, setWebviewPage, webviewOptions } from '../../webviewHost/webviewChannel';
import { isCancellation } from '../cancellation';
import type { EngineService } from '../engineService';
import { textSource } from '../hover/embeddingHoverProvider';
import { attentionTextAt, type AttentionText } from './attentionText';
import {
  attentionCsv,
  attentionJson,
  emptySummary,
  headsPayload,
  nextPayload,
  readySummary,
  thumbnailsPayload,
  tokenAtOffset,
} from './attentionPayload';

export const ATTENTION_VIEW_ID = 'lmLens.attention';
const MODEL_KEY = 'lmLens.attention.model';
const FOLLOW_DELAY_MS = 200;
const EDIT_DELAY_MS = 400;

interface Shown {
  /** model + text: a cursor move inside the same text only moves the focus. */
  key: string;
  version: number;
  result: AttentionResult;
  text: AttentionText;
}

function staleError(): Error {
  return Object.assign(new Error('The view shows an older text; ask again.'), { code: 'STALE' });
}

/**
 * The attention view (a webview view in the LM Lens activity-bar container): follows the cursor, runs the
 * engine on the sentence under it (or the selection), and answers the webview's requests for the weights it
 * draws. The whole result stays here, in the extension host; the webview gets one layer's heads at a time.
 */
export class AttentionViewProvider extends DisposableBase implements vscode.WebviewViewProvider {
  private view: vscode.WebviewView | undefined;
  private endpoint: Endpoint | undefined;
  private shown: Shown | undefined;
  private lastSummary: AttentionSummary | undefined;
  private version = 0;
  private running: { key: string; controller: AbortController } | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastError: string | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly engines: EngineService,
    private readonly memento: vscode.Memento,
  ) {
    super();
    this._register(
      vscode.window.onDidChangeTextEditorSelection((event) => {
        if (event.textEditor === vscode.window.activeTextEditor && readConfig().attention.followCursor) {
          this.schedule(FOLLOW_DELAY_MS);
        }
      }),
    );
    this._register(vscode.window.onDidChangeActiveTextEditor(() => readConfig().attention.followCursor && this.schedule(0)));
    this._register(
      vscode.workspace.onDidChangeTextDocument((event) => {
        if (event.document === vscode.window.activeTextEditor?.document && readConfig().attention.followCursor) {
          this.schedule(EDIT_DELAY_MS);
        }
      }),
    );
    this._register(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('lmLens.attention') || event.affectsConfiguration('lmLens.models')) {
          this.schedule(0, true);
        }
      }),
    );
    this._register({ dispose: () => this.cancelRun() });
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = webviewOptions(this.extensionUri);
    const { endpoint, disposable } = connectWebview(view.webview, 'attention');
    this.endpoint = endpoint;
    const registrations = [
      disposable,
      endpoint.onReady(() => {
        if (this.lastSummary) endpoint.sendNotification(AttentionMessages.summary, this.lastSummary);
        this.schedule(0);
      }),
      endpoint.onRequest(AttentionMessages.heads, (p) => headsPayload(this.resultFor(p.version), p.version, p.layer, p.heads)),
      endpoint.onRequest(AttentionMessages.thumbnails, (p) => thumbnailsPayload(this.resultFor(p.version), p.version, p.size)),
      endpoint.onRequest(AttentionMessages.next, (p) => nextPayload(this.resultFor(p.version), p.version, p.position)),
      endpoint.onRequest(AttentionMessages.selectModel, async ({ model }) => {
        if (typeof model !== 'string' || model === '') throw Object.assign(new Error('No model given.'), { code: 'BAD_INPUT' });
        await this.memento.update(MODEL_KEY, model);
        this.schedule(0, true);
        return null;
      }),
      endpoint.onRequest(AttentionMessages.exportData, async (p) => {
        const result = this.resultFor(p.version);
        const content = p.format === 'csv' ? attentionCsv(result, p) : attentionJson(result, p);
        const where = p.scope === 'all' ? 'all' : p.scope === 'layer' ? `L${p.layer + 1}` : `L${p.layer + 1}H${p.head + 1}`;
        return saveExport(`attention-${result.model}-${where}`, p.format, content);
      }),
      endpoint.onRequest(AttentionMessages.saveImage, (p) => saveExport(p.name, p.format, imageBytes(p.format, p.data))),
      view.onDidChangeVisibility(() => {
        if (view.visible) this.schedule(0);
      }),
    ];
    view.onDidDispose(() => {
      for (const r of registrations) r.dispose();
      if (this.view === view) {
        this.view = undefined;
        this.endpoint = undefined;
        this.cancelRun();
      }
    });
    setWebviewPage(view.webview, this.extensionUri, 'attention', 'LM Lens: Attention');
  }

  /** `LM Lens: Show Attention`: reveal the view and show the text at the cursor now. */
  async show(): Promise<void> {
    await vscode.commands.executeCommand(`${ATTENTION_VIEW_ID}.focus`);
    this.schedule(0);
  }

  /** A command from the view's title menu, handled by the webview (exports need its current picture). */
  sendCommand(command: AttentionCommand): void {
    if (!this.endpoint) {
      void vscode.window.showInformationMessage('LM Lens: open the Attention view first.');
      return;
    }
    this.endpoint.sendNotification(AttentionMessages.command, command);
  }

  private resultFor(version: number): AttentionResult {
    if (!this.shown || this.shown.version !== version) throw staleError();
    return this.shown.result;
  }

  private schedule(delayMs: number, force = false): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh(force);
    }, delayMs);
  }

  private post(summary: AttentionSummary): void {
    this.lastSummary = summary;
    this.endpoint?.sendNotification(AttentionMessages.summary, summary);
  }

  private cancelRun(): void {
    this.running?.controller.abort();
    this.running = undefined;
  }

  /** Runs the engine on the text at the cursor, unless it is what the view shows already. */
  private async refresh(force: boolean): Promise<void> {
    if (!this.view?.visible || this.disposed) return;
    const editor = vscode.window.activeTextEditor;
    const usable = editor && ['file', 'untitled', 'vscode-notebook-cell'].includes(editor.document.uri.scheme);
    const text = usable ? attentionTextAt(textSource(editor.document), editor.selection.active, editor.selection.anchor) : undefined;
    if (!editor || !usable || !text) {
      if (!this.shown) {
        this.post(emptySummary(++this.version, 'idle', this.lastSummary?.models ?? [], 'Put the cursor in a sentence, or select some text, to see its attention.'));
      }
      return;
    }
    let engine: Engine;
    let models: AttentionModelChoice[];
    let model: string | undefined;
    try {
      engine = await this.engines.get();
      ({ models, model } = await this.pickModel(engine));
    } catch (error) {
      this.fail(error);
      return;
    }
    if (!model) {
      this.post(emptySummary(++this.version, 'idle', models, 'No model with attention weights is installed (BERT or GPT-2 style).'));
      return;
    }
    const key = `${model}\n${text.text}`;
    if (!force && this.shown?.key === key) {
      const focus = tokenAtOffset(this.shown.result.spans, text.focus);
      this.endpoint?.sendNotification(AttentionMessages.focus, { version: this.shown.version, focus });
      return;
    }
    if (!force && this.running?.key === key) return;
    this.cancelRun();
    const controller = new AbortController();
    this.running = { key, controller };
    this.endpoint?.sendNotification(AttentionMessages.busy, { busy: true });
    const started = performance.now();
    try {
      const result = await engine.attention(
        { text: text.text, focus: text.focus, model, maxTokens: readConfig().attention.maxTokens },
        controller.signal,
      );
      if (controller.signal.aborted) return; // a reply that arrives after a cancel is dropped
      const engineMs = performance.now() - started;
      const version = ++this.version;
      this.shown = { key, version, result, text };
      const source = `${path.basename(editor.document.fileName)}, line ${text.line + 1}`;
      this.post(readySummary(result, version, models, text.focus, { source, engineMs, clipped: text.clipped }));
      this.lastError = undefined;
      log.debug(`attention: ${result.model}, ${result.tokens.length} tokens in ${Math.round(engineMs)} ms`);
    } catch (error) {
      if (isCancellation(error) || controller.signal.aborted) return;
      this.fail(error, models, model);
    } finally {
      if (this.running?.controller === controller) {
        this.running = undefined;
        this.endpoint?.sendNotification(AttentionMessages.busy, { busy: false });
      }
    }
  }

  /** A failed run: logged once (background work shows no toast) and shown in the view. */
  private fail(error: unknown, models: AttentionModelChoice[] = [], model?: string): void {
    const message = describeError(error);
    if (message !== this.lastError) log.warn(`attention: ${message}`);
    this.lastError = message;
    this.shown = undefined;
    this.post(emptySummary(++this.version, 'error', models, message, model));
  }

  private async pickModel(engine: Engine): Promise<{ models: AttentionModelChoice[]; model: string | undefined }> {
    const all = await engine.listModels();
    const usable = all.filter(canShowAttention);
    const models = usable.map((m: ModelInfo) => ({ id: m.id, kind: m.kind, source: m.source }));
    // the model picked in the view, else the setting (the engine says why when that one cannot run)
    const remembered = this.memento.get<string>(MODEL_KEY);
    if (remembered && usable.some((m) => m.id === remembered)) return { models, model: remembered };
    const configured = readConfig().attention.model;
    if (configured) return { models, model: configured };
    const preferred =
      usable.find((m) => m.kind === 'masked-lm' && m.source === 'shipped') ?? usable.find((m) => m.source === 'shipped') ?? usable[0];
    return { models, model: preferred?.id };
  }
}
