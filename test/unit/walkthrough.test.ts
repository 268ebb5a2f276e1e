/**
 * The walkthrough's "try it on the sample" buttons (pure helpers of src/features/walkthrough, no `vscode`): every
 * button package.json contributes names a step, and each step's cursor lands where its command needs it in the
 * shipped sample text.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { planFill, wordAt } from '../../src/features/fillMask/maskPlan';
import { isSampleTry, SAMPLE_TRIES, sampleCursor } from '../../src/features/walkthrough/sampleTries';
import { REPO_ROOT } from './helpers/modelFolders';

const sample = readFileSync(path.join(REPO_ROOT, 'media', 'walkthrough', 'sample.md'), 'utf8');
const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));

describe('walkthrough sample', () => {
  test('every openSample button of the walkthrough names a step, and every step has a button', () => {
    const descriptions: string[] = manifest.contributes.walkthroughs.flatMap((w: { steps: { description: string }[] }) =>
      w.steps.map((s) => s.description));
    const links = descriptions.flatMap((d) => [...d.matchAll(/\(command:lmLens\.openSample\?([^)]*)\)/g)].map((m) => m[1]!));
    const steps = links.map((query) => JSON.parse(decodeURIComponent(query))[0]);
    assert.ok(steps.length > 0, 'the walkthrough has openSample buttons');
    for (const step of steps) assert.ok(isSampleTry(step), `${step} is a sample step`);
    assert.deepEqual([...new Set(steps)].sort(), Object.keys(SAMPLE_TRIES).sort());
    for (const command of Object.values(SAMPLE_TRIES)) {
      assert.ok(manifest.contributes.commands.some((c: { command: string }) => c.command === command), `${command} is contributed`);
    }
  });

  test('Fill Mask: the cursor on the sample\'s [MASK], whose paragraph is the sentence to fill', () => {
    const at = sampleCursor(sample, 'fillMask');
    assert.ok(at !== undefined);
    const plan = planFill(sample, at, at);
    assert.equal(plan?.source, 'markers');
    assert.equal(plan?.text, 'She drank a cup of hot [MASK] before work.');
  });

  test('Continue Text: the cursor at the end of the line to continue', () => {
    const at = sampleCursor(sample, 'continueText');
    assert.ok(at !== undefined);
    const line = sample.slice(sample.lastIndexOf('\n', at - 1) + 1, at);
    assert.equal(line, 'The President of the United');
    assert.equal(sample[at], '\n');
    // continued once already: the cursor goes after what was written, not into it
    const continued = sample.replace('The President of the United\n', 'The President of the United States said\r\n');
    const next = sampleCursor(continued, 'continueText');
    assert.equal(continued.slice(0, next).split('\n').pop(), 'The President of the United States said');
    assert.equal(sampleCursor('The President of the United', 'continueText'), 'The President of the United'.length);
  });

  test('attention and layers: the cursor inside "bank" of the river sentence', () => {
    for (const step of ['showAttention', 'showLayers'] as const) {
      const at = sampleCursor(sample, step);
      assert.ok(at !== undefined);
      const word = wordAt(sample, at);
      assert.equal(word && sample.slice(word.start, word.end), 'bank');
      assert.match(sample.slice(at - 20, at + 20), /bank of the river/);
    }
  });

  test('an edited sample without the place: no cursor (the command runs where the cursor is)', () => {
    for (const step of Object.keys(SAMPLE_TRIES)) {
      assert.ok(isSampleTry(step));
      assert.equal(sampleCursor('Nothing of the sample is left here.', step), undefined);
    }
    assert.equal(isSampleTry('toString'), false);
    assert.equal(isSampleTry(undefined), false);
  });
});
