/**
 * Activation only. Phase one (here) registers cheap things: the log, the hover, the commands, a settings
 * listener. Phase two, the engine and its worker (and so onnxruntime-node), starts on first real use.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { affectsEngine, readConfig } from './config';
import { embedWordCommand } from './features/commands/embedWord';
import { showModelsCommand } from './features/commands/showModels';
import { registerAttentionView } from './features/attention/registerAttention';
import { continueTextCommand } from './features/completion/continueTextCommand';
import { registerInlineCompletion } from './features/completion/inlineCompletionProvider';
import { createEngine } from './features/createEngine';
import { EngineService } from './features/engineService';
import { fillMaskCommand } from './features/fillMask/fillMaskCommand';
import { registerEmbeddingHover } from './features/hover/embeddingHoverProvider';
import { registerLayersPanel } from './features/layers/registerLayers';
import { addModelCommand } from './features/models/addModel';
import { MiniModelNotices } from './features/models/miniModelNotice';
import { removeModelCommand } from './features/models/removeModel';
import { registerSurprisal } from './features/surprisal/surprisalDecorations';
import { SampleText } from './features/walkthrough/sampleText';
import { describeError, log } from './log';

/** Kept for deactivate, which VS Code awaits (its subscriptions' dispose results are dropped). */
let engineService: EngineService | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const started = performance.now();
  context.subscriptions.push(log);
  try {
    const downloadedModels = path.join(context.globalStorageUri.fsPath, 'models'); // where Add Model puts them
    const engines = new EngineService(createEngine, () => ({
      workerPath: path.join(context.extensionPath, 'dist', 'worker.js'),
      shippedModels: path.join(context.extensionPath, 'media', 'models'),
      userModels: [...readConfig().models.folders, downloadedModels],
      cacheDir: path.join(context.globalStorageUri.fsPath, 'cache'),
    }));
    engineService = engines;
    const notices = new MiniModelNotices(context.globalState);
    const sample = new SampleText(path.join(context.extensionPath, 'media', 'walkthrough', 'sample.md'));
    const settingKeys = Object.keys(context.extension.packageJSON?.contributes?.configuration?.properties ?? {});
    context.subscriptions.push(
      { dispose: () => void engines.dispose() },
      registerEmbeddingHover(engines, path.join(context.globalStorageUri.fsPath, 'senses')),
      vscode.commands.registerCommand('lmLens.showModels', () => showModelsCommand(engines)),
      vscode.commands.registerCommand('lmLens.embedWord', () => embedWordCommand(engines)),
      vscode.commands.registerCommand('lmLens.addModel', (repo?: unknown) =>
        addModelCommand(engines, downloadedModels, typeof repo === 'string' ? repo : undefined),
      ),
      vscode.commands.registerCommand('lmLens.removeModel', () => removeModelCommand(engines, downloadedModels)),
      vscode.commands.registerCommand('lmLens.fillMask', () => fillMaskCommand(engines, notices)),
      vscode.commands.registerCommand('lmLens.continueText', () => continueTextCommand(engines, notices)),
      vscode.commands.registerCommand('lmLens.openSample', (step?: unknown) => sample.open(step)),
      registerInlineCompletion(engines, notices),
      registerSurprisal(engines),
      registerAttentionView(context, engines),
      registerLayersPanel(context, engines),
      vscode.workspace.onDidChangeConfiguration((event) => {
        // which settings changed, as VS Code saw them: a user (and the e2e suite) can tell an edit has reached us
        const changed = settingKeys.filter((key) => event.affectsConfiguration(key));
        if (changed.length) log.info(`settings changed: ${changed.join(', ')}`);
        if (affectsEngine(event)) {
          log.info('model folders changed: the engine restarts on next use');
          void engines.restart();
        }
      }),
    );
    log.info(`activated in ${(performance.now() - started).toFixed(1)} ms (engine deferred to first use)`);
  } catch (error) {
    // VS Code does not tell the user that an extension failed to activate: say it ourselves
    log.error(`activation failed: ${error instanceof Error ? error.stack : String(error)}`);
    void vscode.window
      .showErrorMessage(`LM Lens failed to activate: ${describeError(error)}`, 'Show Log')
      .then((choice) => choice && log.show());
    throw error;
  }
}

/**
 * VS Code awaits this promise (for a while) before it ends the extension host: the engine's worker may be inside a
 * model run, which cannot be interrupted, and ending the process then aborts it. Everything else is in
 * context.subscriptions.
 */
export function deactivate(): Promise<void> | undefined {
  const engines = engineService;
  engineService = undefined;
  return engines?.dispose();
}
