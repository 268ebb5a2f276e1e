import * as vscode from 'vscode';

/**
 * The one log of the extension: the "LM Lens" output channel (a log channel, so every line is timestamped and
 * the user can pick the level). Background work (hover) reports failures here instead of showing toasts.
 */
export const log: vscode.LogOutputChannel = vscode.window.createOutputChannel('LM Lens', { log: true });

/** A short, single-line description of anything thrown. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
