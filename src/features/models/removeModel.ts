import * as vscode from 'vscode';
import type { InstalledModel } from '../../engine/modelInstall';
import { describeError, log } from '../../log';
import type { EngineService } from '../engineService';
import { formatSize } from './addModelText';

interface InstalledItem extends vscode.QuickPickItem {
  model: InstalledModel;
}

/**
 * `lmLens.removeModel`: a QuickPick of the models Add Model downloaded into `modelsDir` (unfinished
 * downloads too), a confirmation, then the folder is deleted. Folders from lmLens.models.folders and the
 * shipped models are never offered.
 */
export async function removeModelCommand(engines: EngineService, modelsDir: string): Promise<void> {
  const { installedModels, removeInstalledModel } = await import('../../engine/modelInstall');
  let models: InstalledModel[];
  try {
    models = await installedModels(modelsDir);
  } catch (error) {
    log.error(`remove model: ${describeError(error)}`);
    void vscode.window.showErrorMessage(`LM Lens: could not list the downloaded models: ${describeError(error)}`);
    return;
  }
  if (models.length === 0) {
    void vscode.window.showInformationMessage(
      'LM Lens: no downloaded models to remove. (Folders listed in lmLens.models.folders are yours: LM Lens never deletes them.)',
    );
    return;
  }
  const items: InstalledItem[] = models.map((model) => ({
    label: model.id,
    description: [
      model.repo,
      model.variant,
      model.state === 'partial' ? 'unfinished download' : model.bytes === undefined ? undefined : formatSize(model.bytes),
    ]
      .filter(Boolean)
      .join(' · '),
    detail: model.path,
    model,
  }));
  const picked = await vscode.window.showQuickPick(items, {
    title: 'LM Lens: Remove Model',
    placeHolder: 'Pick a downloaded model to delete from the disk',
    matchOnDescription: true,
  });
  if (!picked) return;
  const { model } = picked;
  const size = model.bytes === undefined ? '' : ` (${formatSize(model.bytes)})`;
  const confirm = await vscode.window.showWarningMessage(
    `Delete ${model.id}${size}?`,
    { modal: true, detail: `${model.path} will be deleted. Add Model can download it again.` },
    'Delete',
  );
  if (confirm !== 'Delete') return;
  try {
    try {
      await removeInstalledModel(modelsDir, model.id);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EBUSY' && code !== 'EPERM' && code !== 'EACCES') throw error;
      // the engine's worker holds the model's files open (Windows): stop it, then try again
      log.info(`remove model: ${model.id} is in use (${code}); restarting the engine`);
      await engines.restart();
      await removeInstalledModel(modelsDir, model.id);
    }
    (await engines.get()).refreshModels();
    log.info(`remove model: deleted ${model.path}`);
    void vscode.window.showInformationMessage(`LM Lens: removed ${model.id}${size}.`);
  } catch (error) {
    log.error(`remove model ${model.id}: ${describeError(error)}`);
    void vscode.window.showErrorMessage(`LM Lens: could not remove ${model.id}: ${describeError(error)}`);
  }
}
