import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as vscode from 'vscode';
import type { Engine } from '../../engine/engine';
import { describeError, log } from '../../log';
import { miniModelNotice, type MiniFeature } from './miniModelText';

const DISMISSED = 'lmLens.miniModelNotice.dismissed';
const ADD = 'Add a Larger Model…';
const NEVER = "Don't Show Again";

/**
 * On the first fill or completion of a session that used a shipped mini model: one notification saying what
 * the model is, with "Add a Larger Model…" (Add Model opened on a sensible default) and "Don't Show Again".
 * Never awaited by the feature that triggered it; never more than once per feature and session.
 */
export class MiniModelNotices {
  private readonly shown = new Set<MiniFeature>();

  constructor(private readonly state: vscode.Memento) {}

  /** Call after `modelId` answered a request of `feature`. */
  afterUse(engine: Engine, modelId: string, feature: MiniFeature): void {
    if (this.shown.has(feature) || this.state.get<boolean>(DISMISSED)) return;
    this.shown.add(feature);
    void this.show(engine, modelId, feature).catch((error: unknown) => log.warn(`mini-model notice: ${describeError(error)}`));
  }

  private async show(engine: Engine, modelId: string, feature: MiniFeature): Promise<void> {
    const model = await engine.models.get(modelId);
    const config = JSON.parse(await readFile(path.join(model.path, 'config.json'), 'utf8')) as Record<string, unknown>;
    const notice = miniModelNotice(model, config, feature);
    if (!notice) return;
    const choice = await vscode.window.showInformationMessage(notice.message, ADD, NEVER);
    if (choice === ADD) await vscode.commands.executeCommand('lmLens.addModel', notice.repo);
    else if (choice === NEVER) await this.state.update(DISMISSED, true);
  }
}
