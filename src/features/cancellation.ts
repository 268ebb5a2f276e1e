import type * as vscode from 'vscode';

/**
 * Bridges a VS Code CancellationToken to an AbortSignal for the engine. Dispose it when the request ends so the
 * token's listener does not outlive the request.
 */
export function abortSignalFor(token: vscode.CancellationToken): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  if (token.isCancellationRequested) controller.abort();
  const listener = token.onCancellationRequested(() => controller.abort());
  return { signal: controller.signal, dispose: () => listener.dispose() };
}

/** True for the engine's CANCELLED error or an AbortError: an expected outcome, not a failure. */
export function isCancellation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, name } = error as { code?: unknown; name?: unknown };
  return code === 'CANCELLED' || name === 'AbortError';
}
