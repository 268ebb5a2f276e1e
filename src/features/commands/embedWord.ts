import * as vscode from 'vscode';
import { readConfig } from '../../config';
import { describeError, log } from '../../log';
import { abortSignalFor, isCancellation } from '../cancellation';
import type { EngineService } from '../engineService';
import { textSource } from '../hover/embeddingHoverProvider';
import { layerStats } from '../hover/renderEmbedding';
import { wordContextAt } from '../hover/wordContext';

/**
 * `lmLens.embedWord`: embeds the word at the cursor in its sentence with the default ELMo model and writes
 * every layer to the "LM Lens" log; a notification sums it up. Works in any language (the user asked).
 */
export async function embedWordCommand(engines: EngineService): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage('LM Lens: open a text editor and put the cursor on a word.');
    return;
  }
  const at = editor.selection.active;
  const context = wordContextAt(textSource(editor.document), at.line, at.character, 'prose');
  if (!context) {
    void vscode.window.showInformationMessage('LM Lens: there is no word at the cursor.');
    return;
  }
  const model = readConfig().models.elmo;
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `LM Lens: embedding "${context.word}"…`, cancellable: true },
      async (_progress, token) => {
        const cancel = abortSignalFor(token);
        try {
          const engine = await engines.get();
          return await engine.embed(
            { text: context.text, word: context.word, occurrence: context.occurrence, model },
            cancel.signal,
          );
        } finally {
          cancel.dispose();
        }
      },
    );
    const stats = layerStats(result.layers);
    log.info(
      `embed "${context.word}" (occurrence ${context.occurrence}) with ${result.model}` +
        `${result.truncated ? ' (sentence cut)' : ''}: ${result.tokens.join(' ')}`,
    );
    for (const [i, s] of stats.entries()) {
      const v = result.layers[i]!.vector;
      log.info(
        `  ${s.layer.padEnd(8)} norm ${s.norm.toFixed(3)}  cos to token ${s.cosineToToken.toFixed(3)}  ` +
          `${s.sparkline}  [${v.slice(0, 8).map((x) => x.toFixed(3)).join(', ')}${v.length > 8 ? ', …' : ''}] (${v.length} dims)`,
      );
    }
    const summary = stats.map((s) => `${s.layer} ${s.norm.toFixed(2)} (cos ${s.cosineToToken.toFixed(2)})`).join(' · ');
    const choice = await vscode.window.showInformationMessage(
      `LM Lens — "${context.word}" in ${result.model}: ${summary}`,
      'Show Layers',
    );
    if (choice) log.show(true);
  } catch (error) {
    if (isCancellation(error)) return;
    log.error(`embed "${context.word}": ${describeError(error)}`);
    void vscode.window.showErrorMessage(`LM Lens: could not embed "${context.word}": ${describeError(error)}`);
  }
}
