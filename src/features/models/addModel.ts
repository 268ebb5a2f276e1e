import * as vscode from 'vscode';
import { readConfig } from '../../config';
import type { ModelKind } from '../../engine/api';
import type { Variant } from '../../engine/hub/layout';
import { describeError, log } from '../../log';
import { abortSignalFor, isCancellation } from '../cancellation';
import type { EngineService } from '../engineService';
import { SUGGESTED_REPOS, parseRepoInput, progressSteps } from './addModelText';

/** The setting that makes a new model the one a feature uses, per kind. */
const USE_FOR: Partial<Record<ModelKind, { label: string; setting: string }>> = {
  'masked-lm': { label: 'Use for Fill Mask', setting: 'fillMask.model' },
  'causal-lm': { label: 'Use for Completion', setting: 'completion.model' },
};

interface RepoItem extends vscode.QuickPickItem {
  repo?: string;
}

interface VariantItem extends vscode.QuickPickItem {
  variant: Variant;
}

/**
 * `lmLens.addModel`: asks for a Hugging Face repository (suggestions, or any `owner/name` in the
 * transformers.js ONNX layout) and a variant, downloads it into `modelsDir` (the extension's global storage)
 * under a cancellable progress notification, then refreshes the engine's model list. Running it again for an
 * interrupted download resumes it.
 */
export async function addModelCommand(engines: EngineService, modelsDir: string, suggested?: string): Promise<void> {
  const repo = await pickRepo(suggested);
  if (!repo) return;
  const variant = await pickVariant(repo);
  if (!variant) return;
  const endpoint = readConfig().hub.endpoint;
  // the downloader loads on first use, not at activation
  const { installModel, describeInstallFailure } = await import('../../engine/modelInstall');
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `LM Lens: adding ${repo}`, cancellable: true },
      async (progress, token) => {
        const abort = abortSignalFor(token);
        const step = progressSteps();
        try {
          return await installModel({
            repo,
            variant,
            endpoint,
            destRoot: modelsDir,
            signal: abort.signal,
            onProgress: (p) => progress.report(step(p)),
          });
        } finally {
          abort.dispose();
        }
      },
    );
    log.info(`add model: ${repo} (${variant}) ${result.alreadyPresent ? 'was already' : 'is now'} in ${result.path}`);
    const engine = await engines.get();
    engine.refreshModels();
    let kind: ModelKind;
    try {
      kind = (await engine.models.get(result.id)).kind;
    } catch (error) {
      // downloaded, but not a model LM Lens can run (an unsupported model_type, say)
      log.warn(`add model ${repo}: ${describeError(error)}`);
      void vscode.window.showWarningMessage(`LM Lens: ${repo} was downloaded to ${result.path}, but it cannot be used: ${describeError(error)}`);
      return;
    }
    const use = USE_FOR[kind];
    const choice = await vscode.window.showInformationMessage(
      `LM Lens: ${repo} ${result.alreadyPresent ? 'was already installed' : 'is installed'} as "${result.id}" (${kind}).`,
      ...(use ? [use.label] : []),
      'Show Models',
    );
    if (use && choice === use.label) {
      await vscode.workspace.getConfiguration('lmLens').update(use.setting, result.id, vscode.ConfigurationTarget.Global);
    } else if (choice === 'Show Models') {
      await vscode.commands.executeCommand('lmLens.showModels');
    }
  } catch (error) {
    const message = describeInstallFailure(error, endpoint);
    if (isCancellation(error)) {
      void vscode.window.showInformationMessage(`LM Lens: ${message}`);
      return;
    }
    log.error(`add model ${repo}: ${describeError(error)}`);
    const offline = (error as { reason?: unknown }).reason === 'offline';
    const actions = offline ? ['Open Settings', 'Show Log'] : ['Show Log'];
    const choice = await vscode.window.showErrorMessage(`LM Lens: could not add ${repo}. ${message}`, ...actions);
    if (choice === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', 'lmLens.hub.endpoint');
    else if (choice === 'Show Log') log.show();
  }
}

/**
 * A QuickPick of suggestions that also takes any typed `owner/name` (or a pasted model page URL); `suggested`
 * (a repository the caller recommends, e.g. from the mini-model notice) comes first and is preselected.
 */
function pickRepo(suggested?: string): Promise<string | undefined> {
  const known = SUGGESTED_REPOS.find((s) => s.repo === suggested);
  const ordered = suggested ? [known ?? { repo: suggested, description: 'suggested' }, ...SUGGESTED_REPOS.filter((s) => s !== known)] : SUGGESTED_REPOS;
  const suggestions: RepoItem[] = ordered.map((s) => ({ label: s.repo, description: s.description, repo: s.repo }));
  const pick = vscode.window.createQuickPick<RepoItem>();
  pick.title = 'LM Lens: Add Model (1/2)';
  pick.placeholder = 'A Hugging Face repository with an ONNX export (transformers.js layout), e.g. Xenova/bert-base-uncased';
  pick.items = suggestions;
  if (suggested) pick.activeItems = [suggestions[0]!];
  pick.matchOnDescription = true;
  return new Promise((resolve) => {
    let done = false;
    const finish = (repo: string | undefined): void => {
      if (done) return;
      done = true;
      resolve(repo);
      pick.dispose();
    };
    pick.onDidChangeValue((value) => {
      const typed = value.trim();
      if (typed === '' || suggestions.some((s) => s.label === typed)) {
        pick.items = suggestions;
        return;
      }
      const parsed = parseRepoInput(typed);
      const item: RepoItem =
        'repo' in parsed
          ? { label: parsed.repo, description: 'download this repository', repo: parsed.repo, alwaysShow: true }
          : { label: typed, description: parsed.error, alwaysShow: true };
      pick.items = [item, ...suggestions];
    });
    pick.onDidAccept(() => {
      const repo = pick.selectedItems[0]?.repo;
      if (repo) finish(repo);
    });
    pick.onDidHide(() => finish(undefined));
    pick.show();
  });
}

async function pickVariant(repo: string): Promise<Variant | undefined> {
  const items: VariantItem[] = [
    {
      label: 'fp32',
      description: 'full precision (onnx/model.onnx)',
      detail: 'The reference outputs; about 4 bytes per parameter.',
      variant: 'fp32',
    },
    {
      label: 'quantized',
      description: '8-bit weights (onnx/model_quantized.onnx)',
      detail: 'About 4 times smaller and faster; predictions differ slightly from the original model.',
      variant: 'quantized',
    },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: `LM Lens: Add Model (2/2): ${repo}`, placeHolder: 'Which export?' });
  return picked?.variant;
}
