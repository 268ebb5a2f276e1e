import * as vscode from 'vscode';
import type { GenerateResult } from '../../engine/api';
import { readConfig } from '../../config';
import { describeError, log } from '../../log';
import { abortSignalFor, isCancellation } from '../cancellation';
import type { EngineService } from '../engineService';
import { promptBefore } from './completionText';

/**
 * `lmLens.continueText`: continues the text before the cursor with the causal LM, streaming each piece into
 * the document as it is generated, under a cancellable progress notification. What was inserted stays
 * when cancelled; it is one undo step.
 */
export async function continueTextCommand(engines: EngineService): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage('LM Lens: open a text editor and put the cursor where the text should go on.');
    return;
  }
  const { document } = editor;
  const start = editor.selection.end;
  const prompt = promptBefore(document.getText(), document.offsetAt(start), 4000);
  if (prompt.trim() === '') {
    void vscode.window.showInformationMessage('LM Lens: there is no text before the cursor to continue.');
    return;
  }
  const config = readConfig().completion;
  const inserter = new StreamingInserter(editor, start);
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'LM Lens: continuing the text', cancellable: true },
      async (progress, token): Promise<GenerateResult> => {
        const cancel = abortSignalFor(token);
        try {
          const engine = await engines.get();
          return await engine.generate(
            {
              text: prompt,
              maxTokens: config.continueTokens,
              temperature: config.temperature,
              topP: config.topP,
              ...(config.model ? { model: config.model } : {}),
            },
            AbortSignal.any([cancel.signal, inserter.failed]),
            (piece) => {
              inserter.insert(piece.text);
              progress.report({ message: `${piece.tokens} of ${config.continueTokens} tokens` });
            },
          );
        } finally {
          cancel.dispose();
          await inserter.done();
        }
      },
    );
    log.info(
      `continue with ${result.model}: ${result.tokens} tokens in ${result.ms} ms (${result.tokensPerSecond} tokens/s, ` +
        `first after ${result.firstTokenMs} ms, ${result.finishReason}${result.truncated ? ', prompt cut' : ''}, seed ${result.seed ?? '-'})`,
    );
  } catch (error) {
    if (isCancellation(error) && !inserter.failed.aborted) return;
    const message = inserter.failed.aborted ? 'the document could not be edited (was it closed?)' : describeError(error);
    log.error(`continue text: ${message}`);
    void vscode.window.showErrorMessage(`LM Lens: could not continue the text: ${message}`);
  }
}

/**
 * Inserts streamed pieces one after another at a moving position, one edit at a time (edits must not
 * overlap), without undo stops between them so the whole continuation undoes at once.
 */
class StreamingInserter {
  private chain: Promise<void> = Promise.resolve();
  private offset: number;
  private first = true;
  private readonly failure = new AbortController();

  constructor(
    private readonly editor: vscode.TextEditor,
    at: vscode.Position,
  ) {
    this.offset = editor.document.offsetAt(at);
  }

  /** Aborted when an edit failed: generation should stop. */
  get failed(): AbortSignal {
    return this.failure.signal;
  }

  insert(text: string): void {
    if (text === '' || this.failure.signal.aborted) return;
    this.chain = this.chain.then(async () => {
      if (this.failure.signal.aborted) return;
      const at = this.editor.document.positionAt(this.offset);
      let ok = false;
      try {
        ok = await this.editor.edit((edit) => edit.insert(at, text), { undoStopBefore: this.first, undoStopAfter: false });
      } catch {
        // the editor was closed: same as a refused edit
      }
      if (!ok) {
        this.failure.abort();
        return;
      }
      this.first = false;
      this.offset += text.length;
      const end = this.editor.document.positionAt(this.offset);
      this.editor.selection = new vscode.Selection(end, end);
      this.editor.revealRange(new vscode.Range(end, end));
    });
  }

  /** Resolves when every queued piece is in the document. */
  done(): Promise<void> {
    return this.chain;
  }
}
