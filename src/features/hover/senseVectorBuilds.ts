import * as vscode from 'vscode';
import type { Engine } from '../../engine/engine';
import { describeError, log } from '../../log';
import { isCancellation } from '../cancellation';

/**
 * Sense vectors for a contextual model the user added (another BERT or ELMo): built in the background on first
 * use, once per model and session, with a cancellable progress notification; cached in global storage.
 * Failures are logged (this starts from a hover), never shown as an error toast.
 */
export class SenseVectorBuilds implements vscode.Disposable {
  private readonly running = new Map<string, AbortController>();
  private readonly tried = new Set<string>();

  /** Starts a build for each user model in `missing` not built or tried yet this session. */
  async ensure(engine: Engine, missing: readonly string[]): Promise<void> {
    for (const id of missing) {
      if (this.running.has(id) || this.tried.has(id)) continue;
      const model = await engine.models.get(id).catch(() => undefined);
      if (!model || model.source !== 'user') continue; // shipped models have their vectors in media/senses
      this.tried.add(id);
      void this.build(engine, id);
    }
  }

  private async build(engine: Engine, id: string): Promise<void> {
    const controller = new AbortController();
    this.running.set(id, controller);
    const started = performance.now();
    try {
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `LM Lens: building word-sense vectors for ${id}`, cancellable: true },
        async (progress, token) => {
          token.onCancellationRequested(() => controller.abort());
          let last = 0;
          const result = await engine.senses.buildSenseIndex(
            id,
            (p) => {
              const percent = p.phase === 'embedding' ? Math.round((p.done / Math.max(1, p.total)) * 95) : p.phase === 'writing' ? 99 : last;
              progress.report({ message: `${p.phase} ${p.done}/${p.total}`, increment: Math.max(0, percent - last) });
              last = Math.max(last, percent);
            },
            controller.signal,
          );
          log.info(`sense vectors for ${id}: ${result.synsets} synsets from ${result.examples} examples in ${Math.round(result.ms / 1000)} s -> ${result.path}`);
        },
      );
    } catch (error) {
      if (isCancellation(error)) {
        log.info(`sense vectors for ${id}: cancelled after ${Math.round((performance.now() - started) / 1000)} s`);
        this.tried.delete(id); // a later hover may start it again
      } else {
        log.warn(`sense vectors for ${id} could not be built: ${describeError(error)}`);
      }
    } finally {
      this.running.delete(id);
    }
  }

  dispose(): void {
    for (const controller of this.running.values()) controller.abort();
    this.running.clear();
  }
}
