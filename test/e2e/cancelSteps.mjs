// Issue 12 in a real VS Code: cancel a long model run. A masked LM that takes seconds per run (a chain of MatMuls,
// test/unit/helpers/lmModels.ts) is put in a models folder through the workspace settings; Fill Mask starts on it,
// Esc closes the QuickPick while ONNX Runtime is inside the run. The extension host must stay the same process,
// show no error, and answer the next request (a hover): ONNX Runtime cannot interrupt the run, so the engine
// retires that worker and a fresh one serves the hover while the old one finishes the run nobody wants.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { requireTs } from '../requireTs.mjs';
import { quickOpen } from './quickOpen.mjs';
import { setWorkspaceSettings } from './workspaceSettings.mjs';

/**
 * MatMuls of 512x512 in the slow model: 14 s of CPU on an idle machine (lm-lens fill, 2026-12-04), so Esc lands
 * inside the run on a fast machine too, and the next hover, served by a fresh worker, comes back before the run ends
 * on a busy one (4,000 steps, ~11 s, once did not: two trainings, a calibration and a CI run on 2 cores, the hover
 * 6.1 s, the old run over before it).
 */
const SLOW_STEPS = 10000;

/** The slow model's writer and the /proc CPU clock of the unit tests' helpers (TypeScript), bundled for this run. */
function loadHelpers(root, runDir) {
  return requireTs(root, path.join(runDir, 'cancel-helpers.cjs'), {
    './test/unit/helpers/lmModels': ['writeSlowBert'],
    './test/unit/helpers/cli': ['cpuMsOf'],
  });
}

/** Never throws: a failure is a failed check, so the steps after these still run. */
export async function cancelLongRunSteps(page, { root, runDir, ws, shots, palette, hoverWord, lensLogText, extensionHosts, check, lap }) {
  let restoreSettings = async () => {};
  let logFrom = 0; // where this cancel's part of the LM Lens log starts
  try {
    const { writeSlowBert, cpuMsOf } = await loadHelpers(root, runDir);
    const slowDir = path.join(runDir, 'slow-models');
    mkdirSync(slowDir, { recursive: true });
    writeSlowBert(slowDir, 'slow-bert', SLOW_STEPS);
    const hostCpuMs = (hosts) => hosts.map((h) => cpuMsOf(Number(h.pid)) ?? 0).reduce((a, b) => a + b, 0);
    restoreSettings = await setWorkspaceSettings(ws, { 'lmLens.models.folders': [slowDir], 'lmLens.fillMask.model': 'slow-bert' }, lensLogText);

    writeFileSync(path.join(ws, 'slow-fill.md'), 'The [MASK] barked at the slow model.\n');
    await quickOpen(page, 'slow-fill.md', { line: 'barked at the slow model', lap });
    const hostsBefore = extensionHosts();
    const cpuBefore = hostCpuMs(hostsBefore);
    const cpuEach = new Map(hostsBefore.map((h) => [h.pid, cpuMsOf(Number(h.pid)) ?? 0]));
    logFrom = lensLogText().length; // an earlier cancelled request may have retired a worker too (a CI run's first hover did)
    await palette(page, 'LM Lens: Fill Mask');
    const predicting = page.locator('.quick-input-widget .quick-input-box input[placeholder="Predicting…"]');
    await predicting.waitFor({ timeout: 30000 });
    // Esc once the host has spent 1.5 s of CPU past the palette: ONNX Runtime is inside the slow run by then
    const end = Date.now() + 60000;
    let spent = 0;
    while (Date.now() < end && (spent = hostCpuMs(hostsBefore) - cpuBefore) < 1500) {
      await page.waitForTimeout(100);
    }
    const stillRunning = await predicting.isVisible();
    // the host that runs the model: ONNX Runtime mapped and its CPU clock running, read before Esc. code-server can
    // hold a second extension host for a while (CI runs listed two before Esc, one after, once both with ONNX
    // Runtime mapped), which says nothing about ours
    const grew = (h) => (cpuMsOf(Number(h.pid)) ?? 0) - (cpuEach.get(h.pid) ?? 0);
    const running = hostsBefore.filter((h) => h.ort).map((h) => ({ pid: h.pid, ms: grew(h) })).sort((a, b) => b.ms - a.ms).slice(0, 1).map((h) => h.pid);
    await page.screenshot({ path: path.join(shots, 'cancel-long-run-busy.png') });
    await page.keyboard.press('Escape');
    lap(`cancel: Esc after ${spent} ms of extension-host CPU, the QuickPick ${stillRunning ? 'still predicting' : 'already answered'}`);
    await page.waitForTimeout(2000);
    const hostsAfter = extensionHosts();
    const errors = await page.locator('.notifications-toasts .notification-list-item-message')
      .filter({ hasText: /LM Lens|slow-bert|could not|failed/i }).allInnerTexts();
    check('cancel a long run: Esc while the model runs', stillRunning && spent >= 1500, `${spent} ms of host CPU before Esc`);
    const after = hostsAfter.map((h) => h.pid);
    const listed = (hosts) => hosts.map((h) => `${h.pid}${h.ort ? ' (onnxruntime)' : ''}`).join(',');
    check('cancel a long run: the extension host stays up (same process, no error shown)',
      running.length > 0 && running.every((pid) => after.includes(pid)) && errors.length === 0,
      `hosts ${listed(hostsBefore)} -> ${listed(hostsAfter)}, the model's ${running.join('') || 'none'}; toasts: ${JSON.stringify(errors)}`);
  } catch (e) {
    check('cancel a long run', false, String(e && e.stack || e));
  }
  try {
    // the next request, with the slow model's folder still in the settings (the same engine): a fresh worker serves
    // it while the old one is still inside the run ONNX Runtime cannot interrupt
    await page.keyboard.press('Escape'); // a QuickPick left open by a failed step above would take the click
    const tab = page.locator('.tabs-container .tab', { hasText: 'README.md' }).first();
    if (await tab.count()) await tab.click();
    else await quickOpen(page, 'README.md', { line: 'Banks, masks and completions', lap });
    await page.locator('.monaco-editor .view-lines').filter({ hasText: 'We sat on the bank' }).first().waitFor();
    const t0 = Date.now();
    const hover = await hoverWord(page, 'We sat on the bank of the river.', 'bank', 'LM Lens', 120000);
    const logAtHover = lensLogText().slice(logFrom);
    const fresh = logAtHover.includes('a fresh worker serves from now on');
    const oldLeft = logAtHover.includes('retired engine worker has left its cancelled run');
    lap(`hover after the cancelled run in ${Date.now() - t0} ms (${fresh ? 'a fresh worker' : 'no fresh worker'}; the old one ${oldLeft ? 'had left' : 'still inside'} the run)`);
    check('cancel a long run: the next hover answers', hover.text.includes('LM Lens — "bank"'), `${Date.now() - t0} ms`);
    check('cancel a long run: a fresh worker answers it while the old one is still inside the run', fresh && !oldLeft,
      `log: fresh worker ${fresh}, old worker out of the run ${oldLeft}`);
    await page.mouse.move(5, 400);
    await page.keyboard.press('Escape');
  } catch (e) {
    check('cancel a long run: the next hover answers', false, String(e && e.stack || e));
  } finally {
    await restoreSettings().catch((error) => check('cancel a long run: the workspace settings are put back', false, String(error)));
  }
}
