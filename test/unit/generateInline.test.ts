/** Text rules of ghost text and Continue Text (pure helpers of src/features/completion, no `vscode`). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { continueMinTokens, inlineEnabledFor, promptBefore, tidyCompletion, wantsGhostText } from '../../src/features/completion/completionText';

describe('completion text rules', () => {
  test('inlineEnabledFor: the language entry, else "*", else off', () => {
    const enable = { '*': false, plaintext: true, markdown: true };
    assert.equal(inlineEnabledFor(enable, 'markdown'), true);
    assert.equal(inlineEnabledFor(enable, 'python'), false);
    assert.equal(inlineEnabledFor({ ...enable, markdown: false }, 'markdown'), false);
    assert.equal(inlineEnabledFor({ '*': true }, 'python'), true);
    assert.equal(inlineEnabledFor({}, 'plaintext'), false);
  });

  test('wantsGhostText: only at the end of a line that has text', () => {
    assert.equal(wantsGhostText('The dog ', ''), true);
    assert.equal(wantsGhostText('The dog', '   '), true);
    assert.equal(wantsGhostText('The', ' dog'), false);
    assert.equal(wantsGhostText('   ', ''), false);
  });

  test('continueMinTokens: Continue Text holds end-of-text back for 16 new tokens, or all it asks for when fewer', () => {
    assert.equal(continueMinTokens(64), 16);
    assert.equal(continueMinTokens(16), 16);
    assert.equal(continueMinTokens(5), 5);
  });

  test('promptBefore: the text before the cursor, cut at a word boundary when long', () => {
    assert.equal(promptBefore('hello world', 5), 'hello');
    const text = 'alpha beta gamma delta';
    assert.equal(promptBefore(text, text.length, 12), 'gamma delta');
  });

  test('tidyCompletion: one line, no double space, no trailing spaces, empty when blank', () => {
    assert.equal(tidyCompletion('The dog ', ' barked at\nthe mailman'), 'barked at');
    assert.equal(tidyCompletion('The dog', ' barked  '), ' barked');
    assert.equal(tidyCompletion('x', '   \n more'), '');
    assert.equal(tidyCompletion('x', 'a\nb', false), 'a\nb');
  });
});
