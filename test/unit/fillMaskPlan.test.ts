/** What the Fill Mask command asks the model (pure helpers of src/features/fillMask, no `vscode`). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { percent, planFill, previewAround, wordAt } from '../../src/features/fillMask/maskPlan';
import { paragraphAround } from '../../src/features/paragraph';

describe('paragraphAround', () => {
  const text = 'First para.\n\nThe dog barked\nat the mailman.\n  \nLast one.';
  test('the lines between blank lines (a line of spaces counts as blank)', () => {
    const at = text.indexOf('barked');
    const { start, end } = paragraphAround(text, at);
    assert.equal(text.slice(start, end), 'The dog barked\nat the mailman.');
    const first = paragraphAround(text, 0);
    assert.equal(text.slice(first.start, first.end), 'First para.');
    const last = paragraphAround(text, text.length);
    assert.equal(text.slice(last.start, last.end), 'Last one.');
  });

  test('a long paragraph is cut to a window around the cursor', () => {
    const long = 'word '.repeat(2000);
    const { start, end } = paragraphAround(long, 5000, 5000, 100);
    assert.equal(end - start, 100);
    assert.ok(start <= 5000 && end >= 5000);
  });
});

describe('planFill', () => {
  test('a selection is masked; its surrounding paragraph is the context', () => {
    const text = 'Intro.\n\nThe big dog barked at the mailman.';
    const start = text.indexOf('big dog');
    const plan = planFill(text, start, start + 'big dog'.length)!;
    assert.equal(plan.source, 'selection');
    assert.equal(plan.text, 'The [MASK] barked at the mailman.');
    assert.deepEqual(plan.ranges, [{ start, end: start + 7 }]);
    assert.equal(plan.text.slice(plan.markers[0]!.start, plan.markers[0]!.end), '[MASK]');
  });

  test('spaces around the selection stay in the text', () => {
    const text = 'The dog barked.';
    const plan = planFill(text, 3, 8)!; // " dog "
    assert.equal(plan.text, 'The [MASK] barked.');
    assert.deepEqual(plan.ranges, [{ start: 4, end: 7 }]);
  });

  test('markers already in the paragraph are filled, wherever the cursor is in it', () => {
    const text = 'The [MASK] barked at the <mask>.\n\nOther [MASK].';
    const plan = planFill(text, 0, 0)!;
    assert.equal(plan.source, 'markers');
    assert.equal(plan.text, 'The [MASK] barked at the <mask>.');
    assert.deepEqual(plan.ranges, [{ start: 4, end: 10 }, { start: 25, end: 31 }]);
  });

  test('otherwise the word at the cursor (or just before it) is masked', () => {
    const text = "The dog's bone.";
    assert.equal(planFill(text, 5, 5)!.text, 'The [MASK] bone.');
    assert.equal(planFill(text, 3, 3)!.text, '[MASK] dog\'s bone.', 'cursor right after "The"');
    assert.equal(planFill('  ', 1, 1), undefined);
    assert.equal(planFill('a . b', 2, 2), undefined, 'punctuation is not a word');
  });

  test('wordAt keeps inner apostrophes and hyphens only', () => {
    const text = "'well-known' words";
    const word = wordAt(text, 3)!;
    assert.equal(text.slice(word.start, word.end), 'well-known');
  });

  test('wordAt takes combining marks with the word (a decomposed "café", Devanagari)', () => {
    for (const [text, offset, expected] of [
      ['un cafe\u0301 noir', 4, 'cafe\u0301'],
      ['un cafe\u0301 noir', 8, 'cafe\u0301'], // cursor right after the accent
      ['नमस्ते दुनिया', 2, 'नमस्ते'],
    ] as const) {
      const word = wordAt(text, offset)!;
      assert.equal(text.slice(word.start, word.end), expected);
    }
  });
});

describe('QuickPick text', () => {
  test('previewAround collapses whitespace and marks cuts', () => {
    assert.equal(previewAround('a\n b', 0), 'a b');
    const long = 'x'.repeat(300);
    const preview = previewAround(long, 150, 20);
    assert.match(preview, /^… x{20} …$/);
  });

  test('percent', () => {
    assert.equal(percent(0.5), '50%');
    assert.equal(percent(0.0123), '1.2%');
    assert.equal(percent(0.00001), '<0.1%');
  });
});
