// The e2e steps change settings through the workspace's .vscode/settings.json: VS Code watches the workspace folder,
// while a rewritten user settings file once went unnoticed. One helper, so every step leaves the file as it found it.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Merges `values` into the workspace settings of `ws` and returns a function that puts the file back as it was
 * (removed when there was none, with the .vscode folder when this made it and it is empty again, so the explorer
 * of later screenshots shows the workspace as it was). The caller waits for VS Code to see the change: seconds on
 * a busy machine.
 */
export function setWorkspaceSettings(ws, values) {
  const file = path.join(ws, '.vscode', 'settings.json');
  const saved = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  const madeFolder = !existsSync(path.dirname(file));
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ ...(saved ? JSON.parse(saved) : {}), ...values }, null, 2));
  return () => {
    if (saved !== undefined) {
      writeFileSync(file, saved);
      return;
    }
    rmSync(file, { force: true });
    if (madeFolder && readdirSync(path.dirname(file)).length === 0) rmSync(path.dirname(file), { recursive: true });
  };
}
