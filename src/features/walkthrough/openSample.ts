import * as fs from 'node:fs/promises';
import * as vscode from 'vscode';
import { describeError, log } from '../../log';

/**
 * `lmLens.openSample`: the walkthrough's practice text (media/walkthrough/sample.md), opened as an untitled Markdown
 * document, so that trying a feature never edits a file of the user's.
 */
export async function openSampleCommand(samplePath: string): Promise<void> {
  let content: string;
  try {
    content = await fs.readFile(samplePath, 'utf8');
  } catch (error) {
    log.error(`open sample: ${describeError(error)}`);
    void vscode.window.showErrorMessage(`LM Lens: could not read the sample text (${describeError(error)}).`);
    return;
  }
  const document = await vscode.workspace.openTextDocument({ language: 'markdown', content });
  await vscode.window.showTextDocument(document);
}
