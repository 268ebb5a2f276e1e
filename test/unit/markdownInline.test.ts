import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readInline } from '../../src/engine/models/markdownInline';
import { readParagraphs } from '../../src/engine/models/lmText';

/** Every character read is the character it says it came from. */
function assertPlaced(text: string, read: { text: string; keep: number[] }): void {
  assert.equal(read.keep.length, read.text.length);
  assert.ok([...read.text].every((c, i) => text[read.keep[i]!] === c), `${JSON.stringify(read.text)} placed in ${JSON.stringify(text)}`);
  assert.ok(read.keep.every((k, i) => i === 0 || k > read.keep[i - 1]!), 'left to right');
}

describe('readInline: Markdown inline markup read as the READMEs corpus read it', () => {
  const cases: [string, string][] = [
    ['See [the docs](https://example.com/docs) for more.', 'See the docs for more.'],
    ['A [reference link][docs] too.', 'A reference link too.'],
    ['Logo ![LM Lens](media/icon.png) here.', 'Logo here.'],
    ['Read https://example.com/a_b_c. Then go.', 'Read . Then go.'],
    ['Call `encode()` on **every** line, _not_ some ~~old~~ *one*.', 'Call encode() on every line, not some old one.'],
    ['Press <kbd>Ctrl</kbd> and <br/> go.', 'Press Ctrl and go.'],
    ['Define __init__ and __bold__ text.', 'Define init and bold text.'],
    ['A link with `code`: [`npm ci`](#install).', 'A link with code: npm ci.'],
  ];
  for (const [text, read] of cases) {
    test(JSON.stringify(text), () => {
      const got = readInline(text);
      assert.equal(got.text, read);
      assertPlaced(text, got);
    });
  }

  test('the four entities the corpus decoded are read as their characters, each placed at its "&"', () => {
    const text = 'Fish&nbsp;&amp;&nbsp;chips: a &lt;b&gt; tag, not <b>, and &amp;lt; as the corpus read it; &mdash; stays.';
    const got = readInline(text);
    assert.equal(got.text, 'Fish & chips: a <b> tag, not , and < as the corpus read it; &mdash; stays.');
    assert.equal(got.keep.length, got.text.length);
    assert.ok(got.keep.every((k, i) => i === 0 || k > got.keep[i - 1]!), 'left to right');
    const entities = [...text.matchAll(/&(nbsp|amp|lt|gt);/g)].map((m) => m.index);
    [...got.text].forEach((c, i) => {
      const at = got.keep[i]!;
      assert.ok(text[at] === c || (text[at] === '&' && entities.includes(at)), `${JSON.stringify(c)} at ${at}`);
    });
  });

  test('text that only looks like markup stays text', () => {
    for (const text of ['2 * 3 * 4 is 24.', 'snake_case_name and a__b__c', 'a < b and c > d', '[1] and [2]', 'a lone ` tick', 'x ** y']) {
      assert.equal(readInline(text).text, text);
    }
  });
});

describe('readParagraphs: folded, then inline markup', () => {
  test('paragraphs lose their markup, places point into the text as written, an image alone is no paragraph', () => {
    const text = '# [LM Lens](https://x.io)\n\n![logo](logo.png)\n\nRun `npm ci`\nand **go**.';
    const read = readParagraphs(text);
    assert.deepEqual(read.paragraphs, ['LM Lens', 'Run npm ci and go.']);
    const joined = read.paragraphs.join('');
    assert.equal(read.at.length, joined.length);
    assert.ok([...joined].every((c, i) => (c === ' ' ? /\s/.test(text[read.at[i]!]!) : text[read.at[i]!] === c)));
  });
});
