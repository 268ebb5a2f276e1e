// Issue 6 for the e2e driver (e2e.mjs): the attention view and the Layers panel, driven like a person, mostly from
// the keyboard. Needs bert-mini and elmo-mini in media/models or E2E_MODELS_DIR (e.g. training/work-smoke/models);
// skipped (and said so) without them. Checks behaviour only: untrained smoke models attend almost uniformly.
// Screenshots (test-results/e2e/): attention-{head,model,matrix,gpt2}-dark.png, attention-layers-{dark,light}.png.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { quickOpen } from './quickOpen.mjs';

export async function attentionAndLayersSteps(page, { ws, shots, modelDirs, palette, wordPoint, check, lap, results }) {
  const has = (id) => modelDirs.some((dir) => existsSync(path.join(dir, id, 'config.json')));
  if (!has('bert-mini') || !has('elmo-mini')) {
    check('attention view and Layers panel (skipped: no bert-mini or elmo-mini in the model folders)', true);
    return;
  }
  /** The webview frame (inner iframe) whose document has `selector`. */
  async function webview(selector, timeout = 60000) {
    const end = Date.now() + timeout;
    while (Date.now() < end) {
      for (const f of page.frames()) {
        if (!f.url().includes('/webview/browser/pre/fake.html') && !f.url().includes('fake.html')) continue;
        if (await f.locator(selector).count().catch(() => 0)) return f;
      }
      await page.waitForTimeout(250);
    }
    throw new Error(`no webview with ${selector}`);
  }
  const waitFor = async (test) => { for (let i = 0; i < 100 && !(await test()); i++) await page.waitForTimeout(100); };
  const open = (name, line) => quickOpen(page, name, { line, lap });
  const squash = (tokens) => tokens.filter((t) => !/^\[(CLS|SEP)\]$/.test(t)).join('').replace(/##|\s|␣/g, '').toLowerCase();
  const stripTokens = (frame) => frame.locator('#strip .tok').allInnerTexts();
  const opacities = (frame) => frame.locator('#drawing svg .lines line').evaluateAll((ls) => ls.map((l) => l.getAttribute('stroke-opacity')).join(','));
  const setTheme = async (theme) => {
    await page.keyboard.press('Control+K'); // Ctrl+K Ctrl+T: the color theme picker
    await page.keyboard.press('Control+T');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.fill(theme);
    await page.locator('.quick-input-list .monaco-list-row', { hasText: theme }).first().waitFor();
    await page.waitForTimeout(300);
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden' }).catch(() => {});
  };

  // the cursor on "bank" in the first sentence; the view opened from the keyboard (palette)
  await page.keyboard.press('Escape');
  await open('README.md', 'Banks, masks and completions');
  const river = 'We sat on the bank of the river.';
  const money = 'She paid the money into her bank account.';
  let at = await wordPoint(page, river, 'bank');
  await page.mouse.click(at.x, at.y);
  await palette(page, 'LM Lens: Show Attention');
  const view = await webview('#drawing svg .lines', 120000);
  await view.locator('#caption', { hasText: 'README.md, line 8' }).waitFor({ timeout: 60000 });
  results.attention = { caption: await view.locator('#caption').innerText(), tokens: await stripTokens(view) };
  lap(`attention view: ${results.attention.caption}`);
  check('the attention view shows the sentence under the cursor', squash(results.attention.tokens) === river.replace(/\s/g, '').toLowerCase(),
    results.attention.tokens.join(' '));

  // the cursor moves to the other sentence: the view follows
  at = await wordPoint(page, money, 'bank');
  await page.mouse.click(at.x, at.y);
  await view.locator('#caption', { hasText: 'README.md, line 10' }).waitFor({ timeout: 60000 });
  const followed = await stripTokens(view);
  check('the attention view follows the cursor', squash(followed) === money.replace(/\s/g, '').toLowerCase(), followed.join(' '));

  // keyboard only: Show Attention puts the focus on the drawing; change layer and head
  await palette(page, 'LM Lens: Show Attention');
  const focused = async () => view.evaluate(() => document.hasFocus() && document.activeElement?.id === 'drawing').catch(() => false);
  await waitFor(focused);
  check('Show Attention puts the keyboard focus on the drawing', await focused());
  if (!(await focused())) await view.locator('#drawing').focus();
  const drawn = async () => ({ layer: await view.locator('#drawing').getAttribute('data-layer'), heads: await view.locator('#drawing').getAttribute('data-heads'), lines: await opacities(view) });
  const first = await drawn();
  await page.keyboard.press('PageDown');
  await waitFor(async () => (await drawn()).layer !== first.layer);
  await waitFor(async () => (await drawn()).lines !== first.lines);
  const second = await drawn();
  check('PageDown changes the layer and the drawing', second.layer !== first.layer && second.lines !== first.lines,
    `layer ${first.layer} -> ${second.layer}; ${first.lines.split(',').length} -> ${second.lines.split(',').length} lines`);
  await page.keyboard.press(']');
  await waitFor(async () => (await drawn()).heads !== second.heads);
  await waitFor(async () => (await drawn()).lines !== second.lines);
  const third = await drawn();
  check('] changes the head and the drawing', third.heads !== second.heads && third.lines !== second.lines, `heads ${second.heads} -> ${third.heads}`);
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  const isolated = await view.locator('#drawing svg').getAttribute('aria-label');
  check('arrow keys isolate a token\'s attention', /attends most to/.test(isolated ?? ''), isolated);
  await page.screenshot({ path: path.join(shots, 'attention-head-dark.png') });
  // the layer picker with the mouse too
  await view.locator('#layer').click();
  await view.locator('#layer vscode-option').first().click();
  await waitFor(async () => (await drawn()).layer === '0');
  check('the layer picker changes the layer', (await drawn()).layer === '0');
  await view.locator('#drawing').focus();
  await page.keyboard.press('2');
  await view.locator('.model-grid .thumb').first().waitFor();
  const thumbs = await view.locator('.model-grid .thumb').count();
  await page.screenshot({ path: path.join(shots, 'attention-model-dark.png') });
  await page.keyboard.press('ArrowDown'); // from layer 1, head 2 to layer 2, head 2
  await page.keyboard.press('Enter');
  await view.locator('#drawing[data-view="head"] svg .lines').waitFor();
  const opened = await drawn();
  check('model view: every layer x head; arrows and Enter open one in the head view',
    thumbs >= 4 && opened.layer === '1' && opened.heads === '1', `${thumbs} thumbnails; opened layer ${opened.layer}, heads ${opened.heads}`);
  await page.keyboard.press('3');
  await view.locator('#drawing canvas#matrix').waitFor();
  await page.keyboard.press('ArrowDown');
  results.attention.matrixCell = await view.locator('#hover-info').innerText();
  check('matrix view with a keyboard cell cursor', /→.*: \d\.\d{3}/.test(results.attention.matrixCell), results.attention.matrixCell);
  await page.screenshot({ path: path.join(shots, 'attention-matrix-dark.png') });
  await page.keyboard.press('1');

  // GPT-2: tokens coloured by surprisal, the next tokens at a clicked position
  if (has('gpt2-mini')) {
    await view.locator('#model').click();
    await view.locator('#model vscode-option', { hasText: 'gpt2-mini' }).click();
    await view.locator('#caption', { hasText: 'gpt2-mini' }).waitFor({ timeout: 60000 });
    const titles = await view.locator('#strip .tok').evaluateAll((els) => els.map((e) => e.getAttribute('title')));
    await view.locator('#strip .tok').nth(3).click();
    await view.locator('#next ol li').first().waitFor({ timeout: 30000 });
    results.attention.next = (await view.locator('#next').innerText()).replace(/\s+/g, ' ');
    await page.screenshot({ path: path.join(shots, 'attention-gpt2-dark.png') });
    check('GPT-2: tokens coloured by surprisal, next tokens at a clicked position',
      titles.slice(1).every((t) => /surprisal \d+\.\d bits/.test(t ?? '')) && /expects/.test(results.attention.next),
      `${titles[1]}; ${results.attention.next}`);
    await view.locator('#model').click();
    await view.locator('#model vscode-option', { hasText: 'bert-mini' }).first().click();
    await view.locator('#caption', { hasText: 'bert-mini' }).waitFor({ timeout: 60000 });
  }

  // a 5,000-line paragraph (huge.md, written by e2e.mjs): the view shows a window around the cursor
  if (existsSync(path.join(ws, 'huge.md'))) {
    at = await wordPoint(page, money, 'account'); // back to the editor (the keyboard is in the view)
    await page.mouse.click(at.x, at.y);
    await open('huge.md');
    await page.keyboard.press('Control+G');
    await page.keyboard.type('2500');
    await page.keyboard.press('Enter');
    await page.locator('.monaco-editor .view-line', { hasText: 'line 2500 of' }).first().waitFor();
    const started = Date.now();
    at = await wordPoint(page, 'line 2500 of a huge paragraph about the bank', 'bank');
    await page.mouse.click(at.x, at.y);
    await view.locator('#caption', { hasText: 'huge.md, line' }).waitFor({ timeout: 60000 });
    const caption = await view.locator('#caption').innerText();
    const tokens = await stripTokens(view);
    check('a long paragraph is windowed around the cursor, not refused',
      /cut to a window/.test(caption) && tokens.length <= 130 && squash(tokens).includes('line2500'),
      `${Date.now() - started} ms; ${caption}; ${tokens.length} tokens`);
    await open('README.md', river);
  }

  // the Layers panel for "bank" (both senses in the document), from the palette
  at = await wordPoint(page, river, 'bank');
  await page.mouse.click(at.x, at.y);
  await palette(page, 'LM Lens: Show Layers');
  const layers = await webview('#occurrences li', 120000);
  await layers.locator('#figure svg').waitFor({ timeout: 60000 });
  const items = await layers.locator('#occurrences li').allInnerTexts();
  results.layers = { title: await layers.locator('#title').innerText(), caption: await layers.locator('#caption').innerText(), items,
    legend: await layers.locator('#legend').innerText() };
  lap(`layers: ${results.layers.title} | ${results.layers.caption} | ${results.layers.legend}`);
  check('the Layers panel for "bank" lists its occurrences in both senses',
    results.layers.title.includes('bank') && items.some((i) => i.includes('of the river')) && items.some((i) => i.includes('bank account')),
    items.map((i) => i.replace(/\s+/g, ' ')).join(' | '));
  // the cosine matrix with its caption and the PCA scatter sit side by side (or stacked) without overlapping
  const boxes = await layers.locator('#figure svg').last().evaluate((root) => {
    const box = (el) => { const r = el.getBoundingClientRect(); return { left: r.left, right: r.right, top: r.top, bottom: r.bottom }; };
    return { cosine: box(root.querySelector('g.cosine')), pca: box(root.querySelector('g.pca > rect')) };
  });
  const apart = boxes.cosine.right <= boxes.pca.left || boxes.cosine.bottom <= boxes.pca.top;
  check('the Layers panel: the cosine matrix and its caption do not overlap the PCA scatter', apart, JSON.stringify(boxes));
  await page.screenshot({ path: path.join(shots, 'attention-layers-dark.png') });
  // keyboard: into the list, down to the money sentence, Enter reveals it in the editor
  await layers.locator('#occurrences li.selected').focus();
  const target = items.findIndex((i) => i.includes('bank account'));
  const selectedIndex = Number(await layers.locator('#occurrences li.selected').getAttribute('data-index'));
  for (let i = selectedIndex; i < target; i++) await page.keyboard.press('ArrowDown');
  for (let i = selectedIndex; i > target; i--) await page.keyboard.press('ArrowUp');
  await page.keyboard.press('Enter');
  const cursor = page.locator('.statusbar-item', { hasText: /Ln 10, Col \d+ \(4 selected\)/ }).first();
  check('Enter on an occurrence reveals it in the editor', await cursor.waitFor({ timeout: 10000 }).then(() => true, () => false),
    await page.locator('.statusbar-item', { hasText: /Ln \d+/ }).first().innerText().catch(() => '?'));

  // the light theme: both redraw with the theme's colours (the cursor back in the first sentence, no selection)
  at = await wordPoint(page, river, 'river');
  await page.mouse.click(at.x, at.y);
  await view.locator('#caption', { hasText: 'README.md, line 8' }).waitFor({ timeout: 60000 });
  await setTheme('Light Modern');
  await layers.locator('body.vscode-light').waitFor({ state: 'attached', timeout: 20000 });
  await view.locator('body.vscode-light').waitFor({ state: 'attached', timeout: 20000 });
  await page.waitForTimeout(500);
  const background = await view.locator('#drawing svg > rect').first().getAttribute('fill');
  check('the light theme redraws the attention view in light colours', /rgb\((2[0-9]{2}), (2[0-9]{2}), (2[0-9]{2})\)/.test(background ?? ''), background);
  await page.screenshot({ path: path.join(shots, 'attention-layers-light.png') });

  // a window reload restores the Layers panel (serializer)
  const reloaded = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout: 60000 });
  await palette(page, 'Developer: Reload Window'); // through VS Code's shutdown, which saves the open editors
  await reloaded;
  await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
  const revived = await webview('#occurrences li', 120000).then(() => true, () => false);
  check('the Layers panel comes back after a reload', revived);
  await setTheme('Dark Modern');

  // leave the window as the next steps expect it: no panel, the explorer in the side bar
  await palette(page, 'View: Close All Editor Groups');
  await page.keyboard.press('Control+Shift+E');
}
