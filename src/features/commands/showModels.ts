import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ModelInfo } from '../../engine/api';
import type { ModelProblem } from '../../engine/modelStore';
import { describeError, log } from '../../log';
import type { EngineService } from '../engineService';

interface ModelItem extends vscode.QuickPickItem {
  model?: ModelInfo;
  problem?: ModelProblem;
}

/**
 * `lmLens.showModels`: a QuickPick of every model found, with kind and folder (broken model folders too, with
 * why); picking a model opens its model card.
 */
export async function showModelsCommand(engines: EngineService): Promise<void> {
  let models: ModelInfo[];
  let problems: ModelProblem[];
  try {
    const engine = await engines.get();
    ({ models, problems } = await engine.models.current()); // as the folders are now: added, removed, broken, mended
  } catch (error) {
    log.error(`show models: ${describeError(error)}`);
    void vscode.window.showErrorMessage(`LM Lens: could not list models: ${describeError(error)}`);
    return;
  }
  if (models.length === 0 && problems.length === 0) {
    const choice = await vscode.window.showWarningMessage(
      'LM Lens: no models found. Add a model folder in the settings (lmLens.models.folders).',
      'Open Settings',
    );
    if (choice) await vscode.commands.executeCommand('workbench.action.openSettings', 'lmLens.models');
    return;
  }
  const items: ModelItem[] = models.map((model) => ({
    label: model.id,
    description: `${model.kind} · ${model.modelType}${model.source === 'user' ? ' · user folder' : ''}`,
    detail: model.note ? `${model.note} ${model.path}` : model.path,
    model,
  }));
  for (const problem of problems) {
    items.push({
      label: `$(warning) ${problem.id}`,
      description: `unusable · ${problem.error.code}`,
      detail: problem.error.message,
      problem,
    });
  }
  const picked = await vscode.window.showQuickPick(items, {
    title: `LM Lens: ${models.length} model${models.length === 1 ? '' : 's'}` +
      (problems.length > 0 ? `, ${problems.length} unusable` : ''),
    placeHolder: 'Pick a model to open its model card',
    matchOnDescription: true,
    matchOnDetail: true,
  });
  if (!picked) return;
  if (picked.problem) {
    void vscode.window.showWarningMessage(`LM Lens: ${picked.problem.id} (${picked.problem.path}): ${picked.problem.error.message}`);
    return;
  }
  const model = picked.model;
  if (!model) return;
  const card = ['MODEL_CARD.md', 'README.md', 'config.json']
    .map((name) => path.join(model.path, name))
    .find((file) => fs.existsSync(file));
  if (card) await vscode.window.showTextDocument(vscode.Uri.file(card), { preview: true });
  else void vscode.window.showInformationMessage(`LM Lens: ${model.id} is in ${model.path}`);
}
