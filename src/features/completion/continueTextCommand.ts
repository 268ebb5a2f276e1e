import * as vscode from 'vscode';
import type { GenerateResult } from '../../engine/api';
import { readConfig } from '../../config';
import { describeError, log } from '../../log';
import { abortSignalFor, isCancellation } from '../cancellation';
import type { EngineService } from '../engineService';
import type { MiniModelNotices } from '../models/miniModelNotice';
import { continueMinTokens, promptBefore } from './completionText';

/**
 * `lmLens.continueText`: continues the text before the cursor with the causal LM, streaming each piece into
 * the document as it is generated, under a cancellable progress notification. What was inserted stays
 * when cancelled; it is one undo step. Typing in the document meanwhile stops it (the insertion point
 * would no longer be known).
 */
export async function continueTextCommand(engines: EngineService, notices?: MiniModelNotices): Promise<void> {
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
  const userEdits = vscode.workspace.onDidChangeTextDocument((event) => {
    if (event.document === document && event.contentChanges.length > 0 && !inserter.editing) inserter.stop('edited');
  });
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'LM Lens: continuing the text', cancellable: true },
      async (progress, token): Promise<GenerateResult> => {
        const cancel = abortSignalFor(token);
        try {
          const engine = await engines.get();
          const result = await engine.generate(
            {
              text: prompt,
              // token healing: the model re-writes the half-typed word (or typed space) at the end, as it would tokenize it
              heal: true,
              maxTokens: config.continueTokens,
              // asked to continue, the model may not end the text at once: the shipped models were trained with
              // end-of-text between paragraphs and often sample it right after a finished sentence (or after the
              // healed word), and the command then inserted a word or nothing
              minTokens: continueMinTokens(config.continueTokens),
              temperature: config.temperature,
              topK: config.topK,
              topP: config.topP,
              minP: config.minP,
              repetitionPenalty: config.repetitionPenalty,
              ...(config.model ? { model: config.model } : {}),
            },
            AbortSignal.any([cancel.signal, inserter.failed]),
            (piece) => {
              inserter.insert(piece.text);
              progress.report({ message: `${piece.tokens} of ${config.continueTokens} tokens` });
            },
          );
          notices?.afterUse(engine, result.model, 'completion');
          return result;
        } finally {
          cancel.dispose();
          await inserter.done();
        }
      },
    );
    log.info(
      `continue with ${result.model} (temperature ${config.temperature}, top-k ${config.topK}, top-p ${config.topP}, min-p ${config.minP}): ${result.tokens} tokens in ${result.ms} ms (${result.tokensPerSecond} tokens/s, ` +
        `first after ${result.firstTokenMs} ms, ${result.finishReason}${result.truncated ? ', prompt cut' : ''}, seed ${result.seed ?? '-'})`,
    );
  } catch (error) {
    if (inserter.stopped === 'edited') {
      void vscode.window.showInformationMessage('LM Lens: Continue Text stopped because the document was edited.');
      return;
    }
    if (isCancellation(error) && !inserter.stopped) return;
    const message = inserter.stopped ? 'the document could not be edited (was it closed?)' : describeError(error);
    log.error(`continue text: ${message}`);
    void vscode.window.showErrorMessage(`LM Lens: could not continue the text: ${message}`);
  } finally {
    userEdits.dispose();
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
  /** Why insertion stopped early: the editor refused an edit, or the user edited the document. */
  stopped: 'refused' | 'edited' | undefined;
  /** True while one of our own edits is being applied (its change event is not the user's). */
  editing = false;

  constructor(
    private readonly editor: vscode.TextEditor,
    at: vscode.Position,
  ) {
    this.offset = editor.document.offsetAt(at);
  }

  /** Aborted when insertion stopped early: generation should stop. */
  get failed(): AbortSignal {
    return this.failure.signal;
  }

  stop(reason: 'refused' | 'edited'): void {
    if (this.stopped) return;
    this.stopped = reason;
    this.failure.abort();
  }

  insert(text: string): void {
    if (text === '' || this.failure.signal.aborted) return;
    this.chain = this.chain.then(async () => {
      if (this.failure.signal.aborted) return;
      const at = this.editor.document.positionAt(this.offset);
      let ok = false;
      this.editing = true;
      try {
        ok = await this.editor.edit((edit) => edit.insert(at, text), { undoStopBefore: this.first, undoStopAfter: false });
      } catch {
        // the editor was closed: same as a refused edit
      } finally {
        this.editing = false;
      }
      if (!ok) {
        this.stop('refused');
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
