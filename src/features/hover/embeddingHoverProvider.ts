import * as vscode from 'vscode';
import { readConfig } from '../../config';
import { describeError, log } from '../../log';
import { abortSignalFor, isCancellation } from '../cancellation';
import type { EngineService } from '../engineService';
import { renderEmbeddingHover } from './renderEmbedding';
import { wordContextAt, type TextSource } from './wordContext';

/** Documents the hover looks at: files and unsaved editors, not output panels, diffs of git objects, etc. */
export const HOVER_SELECTOR: vscode.DocumentSelector = [{ scheme: 'file' }, { scheme: 'untitled' }];

/**
 * Contextual embedding of the word under the mouse: in the configured prose languages anywhere, in other
 * languages only inside comments and strings. Failures go to the log, never to a toast.
 */
export class EmbeddingHoverProvider implements vscode.HoverProvider {
  /** The request of the previous hover: a new hover makes it stale, so it is aborted. */
  private inFlight: AbortController | undefined;
  private lastError: string | undefined;

  constructor(private readonly engines: EngineService) {}

  async provideHover(
    document: vscode.TextDocument,
    position: vscode.Position,
    token: vscode.CancellationToken,
  ): Promise<vscode.Hover | undefined> {
    const config = readConfig();
    if (!config.hover.enabled) return undefined;
    const mode = config.hover.languages.includes(document.languageId) ? 'prose' : 'code';
    const context = wordContextAt(textSource(document), position.line, position.character, mode);
    if (!context) return undefined;

    this.inFlight?.abort();
    const stale = new AbortController();
    this.inFlight = stale;
    const cancel = abortSignalFor(token);
    const signal = AbortSignal.any([stale.signal, cancel.signal]);
    try {
      const engine = await this.engines.get();
      if (signal.aborted) return undefined;
      const started = performance.now();
      const result = await engine.embed(
        { text: context.text, word: context.word, occurrence: context.occurrence, model: config.models.elmo },
        signal,
      );
      if (signal.aborted) return undefined; // a reply that arrives after a cancel is dropped
      log.debug(`hover "${context.word}" (${context.occurrence}) in ${Math.round(performance.now() - started)} ms`);
      this.lastError = undefined;
      const range = new vscode.Range(context.line, context.start, context.line, context.end);
      return new vscode.Hover(new vscode.MarkdownString(renderEmbeddingHover(context.word, result)), range);
    } catch (error) {
      if (isCancellation(error) || signal.aborted) return undefined;
      const message = describeError(error);
      if (message !== this.lastError) log.warn(`hover "${context.word}": ${message}`); // once, not per hover
      this.lastError = message;
      return undefined;
    } finally {
      cancel.dispose();
      if (this.inFlight === stale) this.inFlight = undefined;
    }
  }

  dispose(): void {
    this.inFlight?.abort();
  }
}

export function textSource(document: vscode.TextDocument): TextSource {
  return { lineCount: document.lineCount, lineAt: (line) => document.lineAt(line).text };
}

export function registerEmbeddingHover(engines: EngineService): vscode.Disposable {
  const provider = new EmbeddingHoverProvider(engines);
  return vscode.Disposable.from(vscode.languages.registerHoverProvider(HOVER_SELECTOR, provider), provider);
}
