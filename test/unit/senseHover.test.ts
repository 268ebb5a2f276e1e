/** The hover's sense and layers markdown (pure renderers; no vscode import). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SenseResult } from '../../src/engine/api';
import { splitWords } from '../../src/engine/words';
import { renderLayers, renderLinks, renderSense, SHOW_ALL_SENSES, SHOW_LAYERS, FILL_MASK } from '../../src/features/hover/renderSense';

/** Two spaces and a line break: the context line makes each one space. */
const TEXT = 'We sat  on the bank\nof the river.';

const result: SenseResult = {
  word: 'bank',
  lemma: 'bank',
  pos: 'n',
  senseKey: 'bank%1:17:01::',
  synset: '09236472n',
  gloss: 'sloping land (especially the slope beside a body of water)',
  score: 0.91,
  candidates: [
    { senseKey: 'bank%1:17:01::', lemma: 'bank', pos: 'n', synset: '09236472n', gloss: 'sloping land (especially the slope beside a body of water)', score: 0.91, senseNumber: 1, tagCount: 25, words: ['bank'] },
    { senseKey: 'bank%1:14:00::', lemma: 'bank', pos: 'n', synset: '08437235n', gloss: 'a financial institution that accepts deposits and channels the money into lending activities', score: 0.06, senseNumber: 2, tagCount: 20, words: ['depository financial institution', 'bank'] },
    { senseKey: 'bank%2:38:00::', lemma: 'bank', pos: 'v', synset: '02043258v', gloss: 'tip laterally', score: 0.03, senseNumber: 1, tagCount: 2, words: ['bank'] },
  ],
  method: 'scorer',
  evidence: [{ signal: 'elmo', contribution: 1.24 }, { signal: 'lesk', contribution: 0.7 }, { signal: 'prior', contribution: -0.2 }],
  models: { elmo: 'elmo-mini' },
  missingSenseVectors: [],
  details: {
    model: 'elmo-mini',
    tokens: ['We', 'sat', 'on', 'the', 'bank', 'of', 'the', 'river', '.'],
    index: 4,
    offsets: splitWords(TEXT).map((w) => [w.start, w.end]),
    layers: [
      { layer: 'token', norm: 10.5, cosToToken: 1, cosToUsual: 0.99, neighbours: [{ word: 'banks', cosine: 0.9 }] },
      { layer: 'lstm1', norm: 8.25, cosToToken: 0.4123, cosToUsual: 0.71, neighbours: [{ word: 'shore', cosine: 0.6 }] },
      { layer: 'lstm2', norm: 7, cosToToken: 0.2, neighbours: [] },
    ],
    staticNeighbours: [{ model: 'glove-100d', neighbours: [{ word: 'banks', cosine: 0.8 }, { word: 'financial', cosine: 0.7 }] }],
  },
};

describe('sense hover markdown', () => {
  test('sense: lemma, part of speech, confidence, gloss, key, evidence, runner-ups with the Show all link', () => {
    const md = renderSense(result, { available: new Set([SHOW_ALL_SENSES]), showAllArgs: [{ word: 'bank' }] }).join('\n');
    assert.match(md, /\*Sense\*\* — \*bank\* \(noun\) · confidence 91%/);
    assert.match(md, /> sloping land \\\(especially/);
    assert.match(md, /`bank%1:17:01::`/);
    assert.match(md, /decided by: ELMo sense vectors \+1\.2, gloss overlap \+0\.7$/m);
    assert.doesNotMatch(md, /sense frequency/); // negative contributions are not "deciding"
    assert.match(md, /Runner-ups: a financial institution .*\(n, 6%\) · tip laterally \(v, 3%\)/);
    assert.match(md, /\[Show all 3 senses\]\(command:lmLens\.showAllSenses\?%5B%7B%22word%22%3A%22bank%22%7D%5D\)/);
    assert.doesNotMatch(renderSense(result, { available: new Set() }).join('\n'), /Show all/);
  });

  test('most frequent sense and nearest sense say so', () => {
    const mfs = renderSense({ ...result, method: 'most-frequent-sense', evidence: [] }, { available: new Set() }).join('\n');
    assert.match(mfs, /most frequent sense \(no evidence in this context\)/);
    const nn = renderSense({ ...result, method: 'nearest-sense', score: 0.4321 }, { available: new Set() }).join('\n');
    assert.match(nn, /nearest sense, cosine 0\.43/);
  });

  test('layers: one table row per layer (norm, cos to token, cos to usual, neighbours) and static neighbours', () => {
    const md = renderLayers(result, TEXT).join('\n');
    assert.match(md, /model `elmo-mini` · 3 layers/);
    assert.match(md, /^We sat on the \*\*bank\*\* of the river\\\.$/m, 'the context line is the text as written');
    assert.match(md, /\| token \| 10\.50 \| 1\.000 \| 0\.990 \| banks \|/);
    assert.match(md, /\| LSTM 1 \| 8\.25 \| 0\.412 \| 0\.710 \| shore \|/);
    assert.match(md, /\| LSTM 2 \| 7\.00 \| 0\.200 \| – \| – \|/);
    assert.match(md, /static `glove-100d` neighbours \(same in every context\): banks, financial/);
    assert.deepEqual(renderLayers({ ...result, details: undefined } as SenseResult, TEXT), []);
  });

  test('links only for commands that exist', () => {
    const at = { uri: 'file:///a.md', line: 2, start: 4, end: 8 };
    assert.deepEqual(renderLinks({ available: new Set() }, at), []);
    const both = renderLinks({ available: new Set([SHOW_LAYERS, FILL_MASK]) }, at).join('');
    assert.match(both, /\[Open layers panel\]\(command:lmLens\.showLayers\?/);
    assert.match(both, /\[Fill this word\]\(command:lmLens\.hover\.fillWord\?/);
    assert.match(decodeURIComponent(both), /"position":\{"line":2,"character":4\}/);
  });
});
