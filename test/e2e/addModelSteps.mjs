// Issue 7 in a real VS Code: "LM Lens: Add Model…" downloads a Hub-shaped repository served on loopback (our
// bert-mini stripped of its attention outputs, like a Hugging Face export), Show Models lists it, and
// "LM Lens: Remove Model" deletes it. Needs bert-mini in media/models or E2E_MODELS_DIR; skipped without it.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { requireTs } from '../requireTs.mjs';
import { setWorkspaceSettings } from './workspaceSettings.mjs';

/** The fake hub and the fixture helpers are TypeScript: bundle them once for this run. */
function loadFixtures(root, runDir) {
  return requireTs(root, path.join(runDir, 'add-model-fixtures.cjs'), {
    './test/fixtures/hub/fakeHub': ['FakeHub'],
    './test/fixtures/hub/plainExport': ['hubFilesFromFolder'],
  });
}

/** Never throws: a failure is a failed check, so the steps after these still run. */
export async function addModelSteps(page, { root, runDir, ws, shots, modelDirs, palette, lensLogText, check, lap }) {
  const bertDir = modelDirs.map((dir) => path.join(dir, 'bert-mini')).find((dir) => existsSync(path.join(dir, 'config.json')));
  if (!bertDir) {
    check('Add Model (skipped: no bert-mini in media/models or E2E_MODELS_DIR)', true);
    return;
  }
  let hub;
  let restoreSettings = async () => {};
  const downloads = path.join(runDir, 'data', 'User', 'globalStorage', 'lm-lens.lm-lens', 'models');
  const toast = (text) => page.locator('.notifications-toasts .notification-list-item', { hasText: text }).first();
  try {
    const { FakeHub, hubFilesFromFolder } = await loadFixtures(root, runDir);
    hub = await FakeHub.start({ repo: 'Test/bert-mini', files: hubFilesFromFolder(bertDir) });
    // the endpoint as a workspace setting
    restoreSettings = await setWorkspaceSettings(ws, { 'lmLens.hub.endpoint': hub.url }, lensLogText);

    // 1. the repository: typed, not one of the suggestions
    await palette(page, 'LM Lens: Add Model…');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Xenova/bert-base-uncased' }).first().waitFor();
    await page.screenshot({ path: path.join(shots, 'add-model-repo.png') });
    await input.fill('Test/bert-mini');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'download this repository' }).first().waitFor();
    await page.keyboard.press('Enter');
    // 2. the variant
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'full precision' }).first().waitFor();
    await page.keyboard.press('Enter');
    const done = toast('is installed as "Test--bert-mini"');
    await done.waitFor({ timeout: 60000 });
    await page.waitForTimeout(600);
    await page.screenshot({ path: path.join(shots, 'add-model-done.png') });
    const text = (await done.innerText()).replace(/\s+/g, ' ');
    lap(`add model: ${text}`);
    check('Add Model downloads a repository from lmLens.hub.endpoint', existsSync(path.join(downloads, 'Test--bert-mini', '.lm-lens-complete.json')), text);
    check('Add Model says what the model is and offers to use it', /masked-lm/.test(text) && /Use for Fill Mask/.test(text), text);
    await page.keyboard.press('Escape');

    // 3. listed by Show Models
    await palette(page, 'LM Lens: Show Models');
    const rows = page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
    await rows.first().waitFor({ timeout: 30000 });
    const listed = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
    check('Show Models lists the added model', listed.some((l) => l.startsWith('Test--bert-mini')), listed.map((l) => l.split(',')[0]).join(', '));
    await page.keyboard.press('Escape');

    // 4. Remove Model: pick it, confirm, gone
    await palette(page, 'LM Lens: Remove Model');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Test--bert-mini' }).first().waitFor({ timeout: 30000 });
    await page.keyboard.press('Enter');
    const confirm = page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Delete' }).first();
    await confirm.waitFor({ timeout: 10000 });
    await page.screenshot({ path: path.join(shots, 'remove-model-confirm.png') });
    await confirm.click();
    await toast('removed Test--bert-mini').waitFor({ timeout: 30000 });
    check('Remove Model deletes the downloaded folder', !existsSync(path.join(downloads, 'Test--bert-mini')));
  } catch (error) {
    check('Add Model / Remove Model steps finished', false, String(error?.stack ?? error));
    await page.screenshot({ path: path.join(shots, 'add-model-failure.png') }).catch(() => {});
  } finally {
    await restoreSettings().catch((error) => check('Add Model: the workspace settings are put back', false, String(error)));
    await hub?.close();
  }
}
