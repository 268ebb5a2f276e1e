import * as vscode from 'vscode';
import type { EngineService } from '../engineService';
import { LAYERS_VIEW_TYPE, LayersPanel } from './layersPanel';

/** `lmLens.showLayers` (optional `{ uri, position }` argument, for the hover's link) and the panel's serializer. */
export function registerLayersPanel(context: vscode.ExtensionContext, engines: EngineService): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.commands.registerCommand('lmLens.showLayers', (argument?: unknown) => LayersPanel.show(context.extensionUri, engines, context.workspaceState, argument)),
    vscode.window.registerWebviewPanelSerializer(LAYERS_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state) => LayersPanel.revive(panel, context.extensionUri, engines, context.workspaceState, state),
    }),
  );
}
