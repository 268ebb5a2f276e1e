import * as vscode from 'vscode';
import type { EngineService } from '../engineService';
import { ATTENTION_VIEW_ID, AttentionViewProvider } from './attentionViewProvider';

/** The attention view and its commands (cheap: nothing runs until the view is shown). */
export function registerAttentionView(context: vscode.ExtensionContext, engines: EngineService): vscode.Disposable {
  const provider = new AttentionViewProvider(context.extensionUri, engines, context.workspaceState);
  return vscode.Disposable.from(
    provider,
    vscode.window.registerWebviewViewProvider(ATTENTION_VIEW_ID, provider),
    vscode.commands.registerCommand('lmLens.showAttention', () => provider.show()),
    vscode.commands.registerCommand('lmLens.attention.exportPng', () => provider.sendCommand({ command: 'exportPng' })),
    vscode.commands.registerCommand('lmLens.attention.exportSvg', () => provider.sendCommand({ command: 'exportSvg' })),
    vscode.commands.registerCommand('lmLens.attention.exportJson', () => provider.sendCommand({ command: 'exportJson' })),
    vscode.commands.registerCommand('lmLens.attention.exportCsv', () => provider.sendCommand({ command: 'exportCsv' })),
  );
}
