/** The hover's context line: the biLM's tokens back as written text (pure renderer; no vscode import). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { splitWords } from '../../src/engine/words';
import { contextSnippet } from '../../src/features/hover/renderEmbedding';

describe('hover: the context snippet', () => {
  const tokens = ['In', 'code', ',', 'it', 'works', 'in', 'strings', 'only', ':', 'the', 'bank', 'of', 'a', 'river', '.'];

  // Markdown punctuation comes back escaped (\.), which the hover renders as the character
  test('punctuation is written against the word before it, not after a space', () => {
    assert.equal(contextSnippet(tokens, 13), '… only: the bank of a **river**\\.');
    assert.equal(contextSnippet(tokens, 1), 'In **code**, it works in strings only …');
  });

  test('brackets join as written, apostrophe words stay whole; the word keeps its bold', () => {
    // the tokens as the engine makes them (embed and sense both split with splitWords)
    const t = splitWords("We don't sit (by the bank), we walk!").map((w) => w.text);
    assert.equal(contextSnippet(t, t.indexOf('bank'), 20), "We don't sit \\(by the **bank**\\), we walk\\!");
    assert.equal(contextSnippet(['a', '.'], 1), 'a**\\.**');
  });

  test('a bad index gives nothing; Markdown in tokens is escaped', () => {
    assert.equal(contextSnippet(tokens, -1), '');
    assert.equal(contextSnippet(tokens, tokens.length), '');
    assert.equal(contextSnippet(['a', '*b*'], 0), '**a** \\*b\\*');
  });
});
