/**
 * How a causal LM reads a text (models/lmText.ts): a model that trained on paragraphs without line breaks
 * (`lm_lens.line_breaks: "paragraphs"`, the shipped gpt2-mini) reads a blank line as end-of-text and any other line
 * break as a space, and its tokens are placed back in the text as written. Exact on the hand-built counting GPT-2;
 * on the shipped gpt2-mini, a hard-wrapped sentence scores as it does on one line.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Engine, modelDirectories } from '../../src/engine/engine';
import { parseCausalConfig } from '../../src/engine/models/causalLm';
import { encodeLmText, foldLineBreaks } from '../../src/engine/models/lmText';
import { tokenWindow } from '../../src/engine/tasks/attention/attention';
import { loadTokenizer, type Tokenizer } from '../../src/engine/tokenizer';
import { logSoftmax } from '../../src/engine/sampling';
import { DIST, SHIPPED_MODELS, tempDir } from './helpers/modelFolders';
import { lensError } from './helpers/lensError';
import { countingLogits, EOT, writeCountingGpt2 } from './helpers/lmModels';

const workerPath = path.join(DIST, 'worker.js');
const PARAGRAPHS = { lm_lens: { line_breaks: 'paragraphs' } };
const bytes = (text: string): number[] => [...Buffer.from(text)];

describe('foldLineBreaks', () => {
  test('a line break inside a paragraph is one space; a blank line ends the paragraph; edges are dropped', () => {
    assert.deepEqual(foldLineBreaks('one\ntwo'), { paragraphs: ['one two'], at: [0, 1, 2, 3, 4, 5, 6], ending: 'text' });
    const folded = foldLineBreaks('\n  a b \r\n   c\n \n\nd\n');
    assert.deepEqual(folded.paragraphs, ['a b c', 'd']);
    assert.equal(folded.ending, 'line');
    // every character read points at the character it came from (the folded space at the run that held the break)
    assert.deepEqual(folded.at, [3, 4, 5, 6, 12, 17]);
  });

  test('how the text ends: on text, a line break or a blank line; an empty or blank text has no paragraph', () => {
    assert.equal(foldLineBreaks('a').ending, 'text');
    assert.equal(foldLineBreaks('a\n').ending, 'line');
    assert.equal(foldLineBreaks('a\n\n').ending, 'blank');
    assert.equal(foldLineBreaks('a\n \t\n  ').ending, 'blank');
    assert.deepEqual(foldLineBreaks(' \n\n \n'), { paragraphs: [], at: [], ending: 'blank' });
    assert.deepEqual(foldLineBreaks('  no break  '), { paragraphs: ['  no break  '], at: [...Array(12).keys()], ending: 'text' });
  });
});

describe('foldLineBreaks: Markdown list items and headings, comment stars', () => {
  test('a line that starts with a list marker is a paragraph of its own, read without its marker', () => {
    const text = 'Install it:\n- with npm, or\n  * with yarn\n10. then run\n2) it\nand go.';
    const folded = foldLineBreaks(text);
    assert.deepEqual(folded.paragraphs, ['Install it:', 'with npm, or', 'with yarn', 'then run', 'it and go.']);
    const read = folded.paragraphs.join('');
    assert.equal(folded.at.length, read.length);
    // each character read still points at itself in the text as written
    assert.equal([...read].every((c, i) => (c === ' ' ? /\s/.test(text[folded.at[i]!]!) : text[folded.at[i]!] === c)), true);
    assert.equal(text.slice(folded.at[read.indexOf('with yarn')]!, folded.at[read.indexOf('with yarn') + 8]! + 1), 'with yarn');
    assert.deepEqual(foldLineBreaks('  - first\n- second').paragraphs, ['first', 'second']);
  });

  test('a heading line is a paragraph of its own, read without its hashes', () => {
    const text = '# LM Lens\nLook inside\nmodels.\n## Install\n- npm ci';
    assert.deepEqual(foldLineBreaks(text).paragraphs, ['LM Lens', 'Look inside models.', 'Install', 'npm ci']);
    assert.equal(foldLineBreaks('Intro.\n### Usage\n').ending, 'blank'); // the heading's line break ends its paragraph
    assert.equal(foldLineBreaks('Intro.\n### Usage').ending, 'text');
  });

  test("a block comment's stars are decoration: its lines go on one paragraph, the stars not read", () => {
    const text = '/**\n * Returns the sum\n * of two numbers.\n */\n* a list item';
    assert.deepEqual(foldLineBreaks(text).paragraphs, ['/** Returns the sum of two numbers. */', 'a list item']);
    // comments opened and closed one after another
    assert.deepEqual(foldLineBreaks('/* a\n * b */\n* c\n/*\n * d\n * e */ f\n* g').paragraphs, ['/* a b */', 'c /* d e */ f', 'g']);
    // a "/*" inside a line (a path, a glob) opens no comment: the stars after it are list items
    assert.deepEqual(foldLineBreaks('See lib/*.js for:\n* one\n* two').paragraphs, ['See lib/*.js for:', 'one', 'two']);
  });

  test('a hyphen, star, number or hash that is text stays text', () => {
    assert.deepEqual(foldLineBreaks('It fell\n-5 degrees and\n1.5 metres of\n*snow*\n---').paragraphs, ['It fell -5 degrees and 1.5 metres of *snow* ---']);
    assert.deepEqual(foldLineBreaks('See issue\n#12 and\n####### seven').paragraphs, ['See issue #12 and ####### seven']);
    assert.deepEqual(foldLineBreaks('- ').paragraphs, []);
  });

  test('a text that ends on a new list marker ends its paragraph (a new one is being typed)', () => {
    assert.equal(foldLineBreaks('- one\n- ').ending, 'blank');
    assert.equal(foldLineBreaks('- one\n-').ending, 'text');
    assert.equal(foldLineBreaks('- ').ending, 'blank');
    assert.equal(foldLineBreaks('- one').ending, 'text');
  });
});

describe('parseCausalConfig: lm_lens.line_breaks', () => {
  test('"keep" when absent; "paragraphs" read; anything else, or paragraphs without end-of-text, is a corrupt model', () => {
    assert.equal(parseCausalConfig({ eos_token_id: 1 }).lineBreaks, 'keep');
    assert.equal(parseCausalConfig({ eos_token_id: 1, ...PARAGRAPHS }).lineBreaks, 'paragraphs');
    assert.throws(() => parseCausalConfig({ eos_token_id: 1, lm_lens: { line_breaks: 'fold' } }), lensError('MODEL_CORRUPT', /line_breaks must be/));
    assert.throws(() => parseCausalConfig(PARAGRAPHS), lensError('MODEL_CORRUPT', /needs an end-of-text token/));
  });
});

describe('encodeLmText (byte-level tokenizer of the counting GPT-2)', () => {
  const models = tempDir();
  let tokenizer: Tokenizer;
  before(async () => {
    tokenizer = await loadTokenizer(writeCountingGpt2(models.dir, 'counting'));
  });
  after(() => models.remove());

  const paragraphs = (text: string, continued: boolean) => encodeLmText(tokenizer, text, { lineBreaks: 'paragraphs', eosIds: [EOT] }, continued);

  test('"keep" encodes the text as it is, line breaks included', () => {
    const read = encodeLmText(tokenizer, 'ab\ncd', { lineBreaks: 'keep', eosIds: [EOT] }, false);
    assert.deepEqual(read.ids, bytes('ab\ncd'));
    assert.deepEqual(read.place(['a', 'b', '\n', 'c', 'd']), [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5]]);
  });

  test('"paragraphs": end-of-text between paragraphs, a space for a line break, places mapped back', () => {
    const read = paragraphs('ab\ncd\n\nef', false);
    assert.deepEqual(read.ids, [...bytes('ab cd'), EOT, ...bytes('ef')]);
    assert.deepEqual(read.place(['a', 'b', ' ', 'c', 'd', '', 'e', 'f']), [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], null, [7, 8], [8, 9]]);
  });

  test('"paragraphs": list items are paragraphs; a new marker at the end of a text that goes on starts one', () => {
    const read = paragraphs('ab\n- cd\n- ', true);
    assert.deepEqual(read.ids, [...bytes('ab'), EOT, ...bytes('cd'), EOT]);
    assert.deepEqual(read.place(['a', 'b', '', 'c', 'd', '']), [[0, 1], [1, 2], null, [5, 6], [6, 7], null]);
  });

  test('the attention window of a model that reads paragraphs: a line break goes in as a space, spans as written', () => {
    const text = '\nab\n\n cd ef';
    const folded = tokenWindow(tokenizer, text, 0, 100, 'paragraphs');
    assert.deepEqual(folded.ids, bytes('ab cd ef'));
    assert.deepEqual(folded.spans[3], [text.indexOf('cd'), text.indexOf('cd') + 2]);
    assert.deepEqual(tokenWindow(tokenizer, text, 0, 100).ids, bytes(text));
  });

  test('"paragraphs": inline Markdown is read as the corpus read it, places still in the text as written', () => {
    const text = 'Run `npm ci`, see [the docs](https://x.io).';
    const read = paragraphs(text, false);
    assert.deepEqual(read.ids, bytes('Run npm ci, see the docs.'));
    const places = read.place([...'Run npm ci, see the docs.']);
    assert.deepEqual(places[4], [text.indexOf('npm'), text.indexOf('npm') + 1]);
    assert.deepEqual(places.at(-1), [text.length - 1, text.length]);
    // a model that keeps its line breaks reads the markup as written
    assert.deepEqual(encodeLmText(tokenizer, text, { lineBreaks: 'keep', eosIds: [EOT] }, false).ids, bytes(text));
  });

  test('the attention window reads markers and headings as score does: not read, focus and spans in the text as written', () => {
    const text = '## Title\n\n- one\n- two';
    const whole = tokenWindow(tokenizer, text, 0, 100, 'paragraphs');
    assert.deepEqual(whole.ids, bytes('Title one two'));
    assert.deepEqual(whole.spans[0], [3, 8]);
    assert.deepEqual(whole.spans.at(-1), [text.indexOf('two'), text.length]);
    // the focus on the second item's marker (not read) is the item's text: a window of four tokens is " two"
    const item = tokenWindow(tokenizer, text, text.lastIndexOf('-'), 4, 'paragraphs');
    assert.deepEqual(item.ids, bytes(' two'));
    assert.ok(item.truncated);
    assert.deepEqual(tokenWindow(tokenizer, text, 0, 100).ids, bytes(text));
  });

  test('the end of a text that goes on: a line break is a typed space, a blank line starts a new paragraph', () => {
    assert.deepEqual(paragraphs('ab\n', true).ids, bytes('ab '));
    assert.deepEqual(paragraphs('ab\n', true).place(['a', 'b', ' ']), [[0, 1], [1, 2], [2, 3]]);
    assert.deepEqual(paragraphs('ab\n\n', true).ids, [...bytes('ab'), EOT]);
    // a text scored as it stands: line breaks at its end are not text
    assert.deepEqual(paragraphs('ab\n', false).ids, bytes('ab'));
    assert.deepEqual(paragraphs('ab\n\n', false).ids, bytes('ab'));
  });
});

describe('score and generate on a model that reads paragraphs (counting GPT-2, in the worker)', () => {
  const models = tempDir();
  let engine: Engine;
  before(() => {
    writeCountingGpt2(models.dir, 'counting');
    writeCountingGpt2(models.dir, 'paragraphs', PARAGRAPHS);
    engine = new Engine({ modelDirectories: modelDirectories(models.dir), workerPath });
  });
  after(async () => {
    await engine.dispose();
    models.remove();
  });

  test('a line break scores as the space it is read as; a blank line as end-of-text, placed nowhere', async () => {
    const wrapped = await engine.score({ text: '12\n45', model: 'paragraphs' });
    const oneLine = await engine.score({ text: '12 45', model: 'paragraphs' });
    assert.deepEqual(wrapped.tokens, ['1', '2', ' ', '4', '5']);
    assert.deepEqual(wrapped.tokenLogProbs, oneLine.tokenLogProbs);
    assert.deepEqual(wrapped.offsets, [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5]]);

    const blank = await engine.score({ text: '12\n\n45', model: 'paragraphs' });
    assert.deepEqual(blank.tokens, ['1', '2', '', '4', '5']);
    assert.deepEqual(blank.offsets, [[0, 1], [1, 2], null, [4, 5], [5, 6]]);
    const ids = [EOT, ...bytes('12'), EOT, ...bytes('45')];
    ids.slice(1).forEach((id, i) => assert.ok(Math.abs(blank.tokenLogProbs[i]! - logSoftmax(countingLogits(i + 1))[id]!) < 1e-2, `token ${i}`));

    // the same text on a model that keeps line breaks: the line break is a token of its own
    const kept = await engine.score({ text: '12\n45', model: 'counting' });
    assert.deepEqual(kept.tokens, ['1', '2', '\n', '4', '5']);
  });

  test('a prompt that ends in closed markup is not healed: its last word is finished', async () => {
    const open = await engine.generate({ text: 'a 12', model: 'paragraphs', maxTokens: 2, heal: true });
    const closed = await engine.generate({ text: 'a `12`', model: 'paragraphs', maxTokens: 2, heal: true });
    assert.equal(open.healed, '12');
    assert.equal(closed.healed, undefined);
    assert.equal(closed.promptTokens, 4); // "a 12" read whole: the backticks not read, nothing taken back
  });

  test('a prompt ending in a blank line is continued after end-of-text', async () => {
    // the counting model's next token depends on how many tokens it has seen: one more (end-of-text) than "12"
    const afterBlank = await engine.generate({ text: '12\n\n', model: 'paragraphs', maxTokens: 2 });
    const plain = await engine.generate({ text: '12', model: 'paragraphs', maxTokens: 2 });
    assert.equal(afterBlank.promptTokens, 3);
    assert.equal(plain.promptTokens, 2);
    assert.equal(afterBlank.completion, '34');
    assert.equal(plain.completion, '23');
  });
});

const shippedGpt2 = existsSync(path.join(SHIPPED_MODELS, 'gpt2-mini', 'onnx', 'model.onnx'));

describe('the shipped gpt2-mini reads a hard-wrapped paragraph as one line', { skip: shippedGpt2 ? false : 'no gpt2-mini in media/models' }, () => {
  test('the same tokens and log-probabilities, offsets in the wrapped text', async () => {
    const engine = new Engine({ modelDirectories: modelDirectories(SHIPPED_MODELS), workerPath });
    try {
      const oneLine = 'The cat sat on the mat and slept all day in the sun.';
      const wrapped = 'The cat sat on the mat and\r\n   slept all day in the sun.';
      const [a, b] = [await engine.score({ text: oneLine, model: 'gpt2-mini' }), await engine.score({ text: wrapped, model: 'gpt2-mini' })];
      assert.deepEqual(b.tokens, a.tokens);
      b.tokenLogProbs.forEach((lp, i) => assert.ok(Math.abs(lp - a.tokenLogProbs[i]!) < 1e-5, `token ${i} (${b.tokens[i]})`));
      const slept = b.tokens.indexOf(' slept');
      assert.deepEqual(b.offsets[slept], [wrapped.indexOf('\r\n'), wrapped.indexOf('slept') + 'slept'.length]);
      b.offsets.forEach((span, i) => {
        if (span) assert.equal(wrapped.slice(span[0], span[1]).replace(/\s+/g, ' ').trim(), b.tokens[i]!.trim(), `token ${i}`);
      });
    } finally {
      await engine.dispose();
    }
  });
});
