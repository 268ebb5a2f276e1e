/** The hover's context line: the user's own text around the word, sliced at the engine's token offsets (pure renderer). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TokenOffsets } from '../../src/engine/api';
import { splitWords } from '../../src/engine/words';
import { contextSnippet } from '../../src/features/hover/renderEmbedding';

/** The offsets the engine returns for `text` (embed and sense both split with splitWords) and the target's index. */
function at(text: string, word: string): [TokenOffsets, number] {
  const words = splitWords(text);
  return [words.map((w) => [w.start, w.end]), words.findIndex((w) => w.text === word)];
}

describe('hover: the context snippet', () => {
  const comment = 'In code, it works in strings only: the bank of a river.';

  // Markdown punctuation comes back escaped (\.), which the hover renders as the character
  test('six tokens either side, the word in bold, the text as written', () => {
    assert.equal(contextSnippet(comment, ...at(comment, 'river')), '… only: the bank of a **river**\\.');
    assert.equal(contextSnippet(comment, ...at(comment, 'code')), 'In **code**, it works in strings only …');
  });

  test("the writer's spacing and script survive: brackets, apostrophes, spaced punctuation, no-space scripts", () => {
    const brackets = "We don't sit (by the bank), we walk!";
    assert.equal(contextSnippet(brackets, ...at(brackets, 'bank'), 20), "We don't sit \\(by the **bank**\\), we walk\\!");
    // French puts a space before "!" and ":"; a rule that joins punctuation to the word before would lose it
    const french = 'Il est assis sur la rive : quelle vue !';
    assert.equal(contextSnippet(french, ...at(french, 'rive'), 20), 'Il est assis sur la **rive** : quelle vue \\!');
    // Japanese writes no spaces at all; joining tokens by rule would add them ("川 の 岸 。"); each kanji is a token
    const japanese = '川の岸。銀行の窓口。';
    assert.equal(contextSnippet(japanese, ...at(japanese, '岸'), 20), '川の**岸**。銀行の窓口。');
  });

  test('line breaks and runs of spaces become one space: the snippet stays one line', () => {
    const text = 'the bank\n   of the\t\triver';
    assert.equal(contextSnippet(text, ...at(text, 'river')), 'the bank of the **river**');
  });

  test('a bad index gives nothing; Markdown in the text is escaped', () => {
    const [offsets] = at(comment, '');
    assert.equal(contextSnippet(comment, offsets, -1), '');
    assert.equal(contextSnippet(comment, offsets, offsets.length), '');
    const markdown = 'a *b*';
    assert.equal(contextSnippet(markdown, ...at(markdown, 'a')), '**a** \\*b\\*');
  });
});
