// The e2e steps change settings through the workspace's .vscode/settings.json: VS Code watches the workspace folder,
// while a rewritten user settings file once went unnoticed. One helper, so every step puts the settings back as it
// found them and goes on only once the extension has seen the change.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The file watcher takes from under a second to many seconds on a busy machine (a fixed 1.5 s wait once let Fill Mask
 * run on the old model in CI, a 3 s one read the old hub endpoint), so the steps wait for the extension's log line
 * "settings changed: <keys>" instead of a guess.
 */
const SEEN_TIMEOUT_MS = 60000;

/**
 * Merges `values` into the workspace settings of `ws` and resolves once the LM Lens log (`logText()`) says every
 * key that changed value reached the extension. Resolves to a function that puts the file back as it was (`{}` when
 * there was none) and waits for that change in the same way.
 */
export async function setWorkspaceSettings(ws, values, logText) {
  const file = path.join(ws, '.vscode', 'settings.json');
  const saved = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  const before = saved ? JSON.parse(saved) : {};
  const changed = Object.keys(values).filter((key) => JSON.stringify(before[key]) !== JSON.stringify(values[key]));
  mkdirSync(path.dirname(file), { recursive: true });
  await writeAndWait(logText, changed, () => writeFileSync(file, JSON.stringify({ ...before, ...values }, null, 2)));
  // never deleted: VS Code's file watcher shuts down when a watched path is deleted ("Watcher shutdown because
  // watched path got deleted" in CI's remoteagent.log), and then settings changes arrive late and Quick Open stops
  // listing new files; a file that was not there is left as `{}`
  return () => writeAndWait(logText, changed, () => writeFileSync(file, saved ?? '{}\n'));
}

async function writeAndWait(logText, keys, write) {
  const mark = logText().length;
  write();
  const end = Date.now() + SEEN_TIMEOUT_MS;
  let missing = keys;
  while (missing.length) {
    const seen = new Set(logText().slice(mark).split('\n')
      .flatMap((line) => line.includes('settings changed: ') ? line.split('settings changed: ')[1].split(', ') : []));
    missing = keys.filter((key) => !seen.has(key));
    if (!missing.length) break;
    if (Date.now() > end) {
      throw new Error(`the extension did not see the settings change of ${missing.join(', ')} within ${SEEN_TIMEOUT_MS / 1000} s`);
    }
    await sleep(100);
  }
}
