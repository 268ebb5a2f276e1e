import * as vscode from 'vscode';
import type { FillResult } from '../../engine/api';
import { readConfig } from '../../config';
import { describeError, log } from '../../log';
import { isCancellation } from '../cancellation';
import type { EngineService } from '../engineService';
import type { MiniModelNotices } from '../models/miniModelNotice';
import { percent, planFill, previewAround, type MaskPlan } from './maskPlan';

interface FillItem extends vscode.QuickPickItem {
  /** One token per mask. */
  fills: string[];
}

/**
 * `lmLens.fillMask`: masks the selection, the [MASK] markers of the paragraph, or the word at the cursor;
 * shows the masked LM's top-k in a QuickPick (busy while the model runs; closing it cancels the request);
 * picking one replaces every mask in one undoable edit.
 */
export async function fillMaskCommand(engines: EngineService, notices?: MiniModelNotices): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage('LM Lens: open a text editor, then select a word or put the cursor on one.');
    return;
  }
  const { document } = editor;
  const text = document.getText();
  const plan = planFill(text, document.offsetAt(editor.selection.start), document.offsetAt(editor.selection.end));
  if (!plan) {
    void vscode.window.showInformationMessage('LM Lens: select a word, put the cursor on one, or write [MASK] where a word should go.');
    return;
  }
  const version = document.version;
  const config = readConfig().fillMask;

  const pick = vscode.window.createQuickPick<FillItem>();
  pick.title = `LM Lens: Fill Mask — ${describePlan(plan, text)}`;
  pick.placeholder = 'Predicting…';
  pick.busy = true;
  pick.matchOnDetail = true;
  const cancel = new AbortController();
  const chosen = new Promise<FillItem | undefined>((resolve) => {
    pick.onDidAccept(() => {
      resolve(pick.selectedItems[0]);
      pick.hide();
    });
    pick.onDidHide(() => {
      cancel.abort();
      resolve(undefined);
    });
  });
  pick.show();

  try {
    const engine = await engines.get();
    const result = await engine.fill({ text: plan.text, topK: config.topK, ...(config.model ? { model: config.model } : {}) }, cancel.signal);
    pick.items = fillItems(result, plan);
    pick.placeholder = `${result.model}: pick a word for ${plan.ranges.length > 1 ? `the ${plan.ranges.length} masks` : 'the mask'} (Esc to cancel)`;
    pick.busy = false;
    notices?.afterUse(engine, result.model, 'fill');
    log.info(`fill with ${result.model}: ${result.timings.totalMs} ms (session.run ${result.timings.runMs} ms)${result.truncated ? ', text cut to a window' : ''}`);
  } catch (error) {
    pick.dispose();
    if (isCancellation(error)) return;
    log.error(`fill: ${describeError(error)}`);
    void vscode.window.showErrorMessage(`LM Lens: could not fill the mask: ${describeError(error)}`);
    return;
  }

  const item = await chosen;
  pick.dispose();
  if (!item) return;
  if (document.version !== version) {
    void vscode.window.showWarningMessage('LM Lens: the document changed while predicting; run Fill Mask again.');
    return;
  }
  const applied = await editor.edit((edit) => {
    plan.ranges.forEach((range, i) => {
      edit.replace(new vscode.Range(document.positionAt(range.start), document.positionAt(range.end)), item.fills[i]!);
    });
  });
  if (!applied) void vscode.window.showWarningMessage('LM Lens: the editor refused the edit.');
}

function describePlan(plan: MaskPlan, text: string): string {
  if (plan.source === 'markers') return plan.ranges.length === 1 ? '[MASK]' : `${plan.ranges.length} masks`;
  const range = plan.ranges[0]!;
  const masked = text.slice(range.start, range.end).replace(/\s+/g, ' ');
  return `“${masked.length > 40 ? `${masked.slice(0, 40)}…` : masked}”`;
}

/** One mask: its candidates. Several: the joint fills. Each with its probability and the filled text. */
export function fillItems(result: FillResult, plan: MaskPlan): FillItem[] {
  const at = plan.markers[0]?.start ?? 0;
  if (result.masks.length === 1) {
    return result.masks[0]!.predictions.map((p) => ({
      label: p.token,
      description: percent(p.score),
      detail: previewAround(p.sequence, at),
      fills: [p.token],
    }));
  }
  return result.sequences.map((s) => ({
    label: s.tokens.join(' · '),
    description: `${percent(s.score)} joint`,
    detail: previewAround(s.sequence, at),
    fills: s.tokens,
  }));
}
