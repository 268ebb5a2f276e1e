import * as vscode from 'vscode';
import { readConfig } from '../../config';
import { describeError, log } from '../../log';
import { abortSignalFor, isCancellation } from '../cancellation';
import type { EngineService } from '../engineService';
import { paragraphAround } from '../paragraph';
import { SURPRISAL_LEVEL_BITS, surprisalSpans } from './surprisalSpans';

/** Background per level: transparent for the expected tokens, warmer for the surprising ones. */
const LEVEL_COLOURS = ['rgba(80, 160, 255, 0.10)', 'rgba(255, 210, 0, 0.18)', 'rgba(255, 150, 0, 0.28)', 'rgba(255, 80, 0, 0.38)', 'rgba(255, 0, 60, 0.50)'];

const LEGEND = [...SURPRISAL_LEVEL_BITS.map((b) => `< ${b}`), `≥ ${SURPRISAL_LEVEL_BITS.at(-1)}`].join(' · ') + ' bits';

/**
 * `lmLens.showSurprisal`: scores the current paragraph (or the selection) with the causal LM and colours
 * each token by its surprisal (-log2 p), with the exact value in a hover. The colours go away when the
 * document changes, on `lmLens.clearSurprisal`, or when the command runs again.
 */
export class SurprisalDecorations implements vscode.Disposable {
  private readonly levels = LEVEL_COLOURS.map((backgroundColor) =>
    vscode.window.createTextEditorDecorationType({ backgroundColor, borderRadius: '2px' }),
  );
  private decorated: vscode.TextEditor | undefined;
  private readonly listener = vscode.workspace.onDidChangeTextDocument((event) => {
    if (event.contentChanges.length > 0 && event.document === this.decorated?.document) this.clear();
  });

  constructor(private readonly engines: EngineService) {}

  async show(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage('LM Lens: open a text editor and put the cursor in a paragraph.');
      return;
    }
    this.clear();
    const { document } = editor;
    const text = document.getText();
    const selection = editor.selection;
    const range = selection.isEmpty
      ? paragraphAround(text, document.offsetAt(selection.active), document.offsetAt(selection.active), 4000)
      : { start: document.offsetAt(selection.start), end: document.offsetAt(selection.end) };
    const paragraph = text.slice(range.start, range.end);
    if (paragraph.trim() === '') {
      void vscode.window.showInformationMessage('LM Lens: the cursor is not in a paragraph of text.');
      return;
    }
    const version = document.version;
    const model = readConfig().completion.model;
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'LM Lens: scoring the paragraph', cancellable: true },
        async (_progress, token) => {
          const cancel = abortSignalFor(token);
          try {
            const engine = await this.engines.get();
            return await engine.score({ text: paragraph, ...(model ? { model } : {}) }, cancel.signal);
          } finally {
            cancel.dispose();
          }
        },
      );
      if (document.version !== version) return; // edited meanwhile: the offsets no longer fit
      const spans = surprisalSpans(result, range.start);
      const byLevel = this.levels.map((): vscode.DecorationOptions[] => []);
      for (const span of spans) {
        const p = Math.pow(2, -span.bits);
        byLevel[span.level]!.push({
          range: new vscode.Range(document.positionAt(span.start), document.positionAt(span.end)),
          hoverMessage: new vscode.MarkdownString(
            `**${span.bits.toFixed(1)} bits** of surprisal (p = ${p < 0.0001 ? p.toExponential(1) : p.toFixed(4)}) — \`${JSON.stringify(span.token)}\` under ${result.model}\n\n` +
              `Colours: ${LEGEND}. Paragraph perplexity ${result.perplexity.toFixed(1)}.`,
          ),
        });
      }
      this.levels.forEach((type, level) => editor.setDecorations(type, byLevel[level]!));
      this.decorated = editor;
      vscode.window.setStatusBarMessage(`LM Lens: perplexity ${result.perplexity.toFixed(1)} (${result.tokens.length} tokens, ${result.model})`, 15_000);
      log.info(`surprisal with ${result.model}: ${result.tokens.length} tokens, perplexity ${result.perplexity.toFixed(2)}, ${result.windows} window(s)`);
    } catch (error) {
      if (isCancellation(error)) return;
      log.error(`surprisal: ${describeError(error)}`);
      void vscode.window.showErrorMessage(`LM Lens: could not score the text: ${describeError(error)}`);
    }
  }

  clear(): void {
    if (this.decorated) for (const type of this.levels) this.decorated.setDecorations(type, []);
    this.decorated = undefined;
  }

  dispose(): void {
    this.clear();
    this.listener.dispose();
    for (const type of this.levels) type.dispose();
  }
}

export function registerSurprisal(engines: EngineService): vscode.Disposable {
  const decorations = new SurprisalDecorations(engines);
  return vscode.Disposable.from(
    decorations,
    vscode.commands.registerCommand('lmLens.showSurprisal', () => decorations.show()),
    vscode.commands.registerCommand('lmLens.clearSurprisal', () => decorations.clear()),
  );
}
