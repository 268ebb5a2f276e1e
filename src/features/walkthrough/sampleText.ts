import * as fs from 'node:fs/promises';
import * as vscode from 'vscode';
import { describeError, log } from '../../log';
import { isSampleTry, SAMPLE_TRIES, sampleCursor } from './sampleTries';

/**
 * `lmLens.openSample [step]`: the walkthrough's practice text (media/walkthrough/sample.md), opened as an untitled
 * Markdown document, so that trying a feature never edits a file of the user's. With a step (`fillMask`,
 * `continueText`, `showAttention`, `showLayers`: the walkthrough's buttons pass one), the sample already open is
 * reused, the cursor goes where that step needs it and the step's command runs: on the walkthrough page no text
 * editor is active, so the command alone would only say to open one.
 */
export class SampleText {
  private document: vscode.TextDocument | undefined;

  constructor(private readonly samplePath: string) {}

  async open(step?: unknown): Promise<void> {
    const document = await this.sampleDocument();
    if (!document) return;
    const editor = await vscode.window.showTextDocument(document);
    if (!isSampleTry(step)) return;
    const offset = sampleCursor(document.getText(), step);
    if (offset !== undefined) {
      const position = document.positionAt(offset);
      editor.selection = new vscode.Selection(position, position);
      editor.revealRange(new vscode.Range(position, position), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    }
    await vscode.commands.executeCommand(SAMPLE_TRIES[step]);
  }

  /** The sample opened before when it is still open (edits and all), else a fresh one. */
  private async sampleDocument(): Promise<vscode.TextDocument | undefined> {
    if (this.document && !this.document.isClosed) return this.document;
    let content: string;
    try {
      content = await fs.readFile(this.samplePath, 'utf8');
    } catch (error) {
      log.error(`open sample: ${describeError(error)}`);
      void vscode.window.showErrorMessage(`LM Lens: could not read the sample text (${describeError(error)}).`);
      return undefined;
    }
    this.document = await vscode.workspace.openTextDocument({ language: 'markdown', content });
    return this.document;
  }
}
