// Opening a workspace file the way a person does: Ctrl+P, the name, Enter. One helper for every step (there were
// three, each waiting a different way).

/**
 * Opens `name` with Quick Open and waits until its tab is active and, when `line` is given, the editor shows a line
 * containing it. Enter opens the focused row, so the wait is for the *first* row to be the file (the list filters
 * asynchronously). A file written during the run reaches Quick Open only once VS Code's file watcher has seen it, which
 * can take seconds on a busy machine: a miss closes the widget and tries again, up to `attempts` times, 2 s apart.
 */
export async function quickOpen(page, name, { line, attempts = 6, lap = () => {} } = {}) {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  for (let attempt = 1; ; attempt++) {
    try {
      await page.keyboard.press('Control+P');
      await input.waitFor({ state: 'visible' });
      await input.fill(name);
      await page.locator('.quick-input-list .monaco-list-row').first().filter({ hasText: name }).waitFor({ timeout: 15000 });
      await page.keyboard.press('Enter');
      await page.locator('.tabs-container .tab.active', { hasText: name }).waitFor({ timeout: 30000 });
      if (line) await page.locator('.monaco-editor .view-lines').filter({ hasText: line }).first().waitFor({ timeout: 30000 });
      return;
    } catch (error) {
      if (attempt >= attempts) throw new Error(`Quick Open did not open ${name} in ${attempts} tries: ${error.message}`);
      lap(`Quick Open does not list ${name} yet (${attempt})`);
      await page.keyboard.press('Escape');
      await page.waitForTimeout(2000);
    }
  }
}
