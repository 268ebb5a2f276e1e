// The Getting Started walkthrough for the e2e driver (e2e.mjs), opened as a person does: the palette's "Welcome:
// Open Walkthrough...", LM Lens's entry, its steps; the first step's button opens the sample text, where the hover
// answers on "bank", and VS Code ticks the step off; the Fill Mask step's button, pressed on the walkthrough page,
// fills the sample's [MASK]. Screenshot: test-results/e2e/walkthrough.png.
import path from 'node:path';

const TITLES = ['Hover a word', 'Fill a [MASK]', 'Ghost text and Continue Text', 'Attention and layers', 'Add a larger model'];

export async function walkthroughSteps(page, { shots, palette, hoverWord, check, lap }) {
  await palette(page, 'Welcome: Open Walkthrough...');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.fill('LM Lens');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Get Started with LM Lens' }).first().waitFor();
  await page.keyboard.press('Enter');

  const steps = page.locator('.getting-started-step');
  await steps.filter({ hasText: TITLES[0] }).first().waitFor();
  const titles = await steps.locator('.step-title').allInnerTexts();
  check('the walkthrough lists its five steps', TITLES.every((t) => titles.includes(t)), titles.join(' | '));
  const image = page.locator('.getting-started-media img').first();
  // attached is not loaded: wait for the image's load (or error) event, up to 10 s, before reading its width (a CI run
  // of 2026-12-05 read it while the new picture was still decoding, and the screenshot right after showed it)
  const loaded = await image.waitFor({ timeout: 20000 }).then(() => image.evaluate((img) => (img.complete && img.naturalWidth > 0) ||
    new Promise((resolve) => {
      img.addEventListener('load', () => resolve(img.naturalWidth > 0), { once: true });
      img.addEventListener('error', () => resolve(false), { once: true });
      setTimeout(() => resolve(img.complete && img.naturalWidth > 0), 10000);
    })), () => false);
  check('the first step shows its picture (the packaged image loads)', loaded);
  await page.screenshot({ path: path.join(shots, 'walkthrough.png') });

  const hoverStep = steps.filter({ hasText: TITLES[0] }).first();
  await hoverStep.getByRole('button', { name: 'Open Sample Text' }).click();
  const sampleLine = 'We sat on the bank of the river and watched the boats go by.';
  const opened = await page.locator('.monaco-editor .view-lines').filter({ hasText: sampleLine }).first()
    .waitFor({ timeout: 30000 }).then(() => true, () => false);
  check('"Open Sample Text" opens the sample in an untitled Markdown editor', opened &&
    await page.locator('.tabs-container .tab.active', { hasText: 'Untitled' }).count() > 0);
  if (opened) {
    const hover = await hoverWord(page, sampleLine, 'bank', 'LM Lens', 60000);
    lap(`walkthrough sample hover in ${hover.ms} ms`);
    check('the hover answers in the unsaved sample', hover.text.includes('"bank"'), hover.text.split('\n')[0]);
    await page.mouse.move(5, 400);
    await page.keyboard.press('Escape');
  }
  // back on the walkthrough, VS Code has ticked the step off (its completion event is the command)
  const walkthroughTab = page.locator('.tabs-container .tab', { hasText: 'Walkthrough' }).first();
  await walkthroughTab.click();
  const ticked = await hoverStep.locator('[role="checkbox"][aria-checked="true"]').first()
    .waitFor({ timeout: 15000 }).then(() => true, () => false);
  check('the walkthrough ticks the step off once the sample was opened', ticked);

  // the Fill Mask step's button works from the walkthrough page (no text editor active there): the sample comes back
  // with the cursor on its [MASK] and Fill Mask offers words for it
  const fillStep = steps.filter({ hasText: TITLES[1] }).first();
  await fillStep.locator('.step-title').click();
  await fillStep.getByRole('button', { name: 'Fill the Mask in the Sample' }).click();
  const pick = page.locator('.quick-input-widget .quick-input-list .monaco-list-row').first();
  const offered = await pick.waitFor({ timeout: 60000 }).then(() => true, () => false);
  const title = offered ? await page.locator('.quick-input-widget .quick-input-title').innerText().catch(() => '') : '';
  check('the Fill Mask step fills the sample\'s [MASK] from the walkthrough page', offered && /Fill Mask/.test(title),
    offered ? `${title}: ${(await pick.innerText()).replace(/\s+/g, ' ')}` : 'no quick pick');
  // close the walkthrough and the sample (unsaved: "Don't Save" in the dialog VS Code asks); the palette closes the
  // Fill Mask QuickPick first
  await palette(page, 'View: Close All Editor Groups');
  const dontSave = page.getByRole('button', { name: "Don't Save" });
  if (await dontSave.waitFor({ timeout: 10000 }).then(() => true, () => false)) await dontSave.click();
  await page.locator('.tabs-container .tab', { hasText: 'Walkthrough' }).waitFor({ state: 'detached', timeout: 15000 });
}
