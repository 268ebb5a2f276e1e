/**
 * What the attention view and the Layers panel are sent, and the text they look at: pure host-side code, no
 * `vscode`, no webview.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AttentionResult, LayerVector } from '../../src/engine/api';
import { decodeUnit16, decodeUnit8 } from '../../src/protocol/bytes';
import {
  attentionCsv,
  attentionJson,
  headsPayload,
  nextPayload,
  poolMatrix,
  readySummary,
  thumbnailsPayload,
  tokenAtOffset,
} from '../../src/features/attention/attentionPayload';
import { attentionTextAt, LIMITS } from '../../src/features/attention/attentionText';
import { clusterGroups, cosineMatrix, pca2, silhouette } from '../../src/features/layers/layerAnalysis';
import { clusterGrouping, LayersData } from '../../src/features/layers/layersData';
import { findOccurrences, splitAtOccurrence } from '../../src/features/layers/occurrences';

const source = (text: string) => {
  const lines = text.split('\n');
  return { lineCount: lines.length, lineAt: (n: number) => lines[n]! };
};

/** A result with L layers, H heads over `tokens`: weight(l, h, q, k) proportional to 1 + l + h + (q == k). */
function fakeResult(tokens: string[], layers = 2, heads = 3, causal = false): AttentionResult {
  const n = tokens.length;
  const data = new Float32Array(layers * heads * n * n);
  for (let l = 0; l < layers; l++)
    for (let h = 0; h < heads; h++)
      for (let q = 0; q < n; q++) {
        const row = Array.from({ length: n }, (_, k) => (causal && k > q ? 0 : 1 + l + h + (q === k ? 5 : 0)));
        const sum = row.reduce((a, b) => a + b, 0);
        row.forEach((v, k) => (data[((l * heads + h) * n + q) * n + k] = v / sum));
      }
  let offset = 0;
  const spans = tokens.map((t, i): [number, number] | null => {
    if (i === 0 || i === n - 1) return null;
    const span: [number, number] = [offset, offset + t.length];
    offset += t.length + 1;
    return span;
  });
  return {
    model: 'fake',
    kind: causal ? 'causal-lm' : 'masked-lm',
    tokens,
    ids: tokens.map((_, i) => i),
    spans,
    special: spans.map((s) => s === null),
    layers,
    heads,
    attentions: data,
    truncated: false,
    ...(causal
      ? {
          surprisal: tokens.map((_, i) => (i === 0 ? null : i * 1.23456)),
          next: tokens.map(() => [
            { token: ' x', id: 1, probability: 0.5 },
            { token: ' y', id: 2, probability: 0.25 },
          ]),
        }
      : {}),
  };
}

describe('attention view: what the webview is sent', () => {
  const tokens = ['[CLS]', 'we', 'sat', 'on', 'the', 'bank', '[SEP]'];
  const result = fakeResult(tokens);

  test('the summary has no weights; the focus is the token under the cursor offset', () => {
    const s = readySummary(result, 7, [], 'we sat on the ba'.length, { source: 'a.md, line 3', engineMs: 12.4 });
    assert.equal(s.version, 7);
    assert.equal(s.focus, 5); // "bank"
    assert.equal(s.engineMs, 12);
    assert.equal('attentions' in s, false);
    assert.ok(JSON.stringify(s).length < 600);
    assert.equal(tokenAtOffset(result.spans, 0), 1);
    assert.equal(tokenAtOffset(result.spans, 2), 1); // the space after "we": the word before
    assert.equal(tokenAtOffset(result.spans, 999), 5);
  });

  test('one layer, chosen heads: exactly those matrices, 16-bit, decoding to the weights', () => {
    const p = headsPayload(result, 3, 1, [2, 0, 2]);
    assert.deepEqual(p.heads, [2, 0]);
    assert.equal(p.matrices.length, 2);
    const n = tokens.length;
    const m = decodeUnit16(p.matrices[0]!);
    assert.equal(m.length, n * n);
    const from = ((1 * 3 + 2) * n) * n;
    m.forEach((v, i) => assert.ok(Math.abs(v - result.attentions[from + i]!) < 1e-4));
    assert.throws(() => headsPayload(result, 3, 2, [0]), /layer 2 is out of range/);
    assert.throws(() => headsPayload(result, 3, 0, [3]), /head 3 is out of range/);
  });

  test('thumbnails: every head mean-pooled; pooling keeps the mass of each block', () => {
    const p = thumbnailsPayload(result, 1, 4);
    assert.equal(p.size, 4);
    const data = decodeUnit8(p.data);
    assert.equal(data.length, 2 * 3 * 16);
    const whole = thumbnailsPayload(result, 1, 64);
    assert.equal(whole.size, 7);
    const exact = decodeUnit8(whole.data);
    exact.forEach((v, i) => assert.ok(Math.abs(v - result.attentions[i]!) <= 0.5 / 255 + 1e-6));
    const m = Float32Array.from({ length: 36 }, (_, i) => (i % 7 === 0 ? 1 : 0)); // 6 x 6 identity
    const pooled = poolMatrix(m, 6, 3);
    assert.deepEqual(Array.from(pooled.cells).map((v) => +v.toFixed(3)), [0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.5]);
    assert.equal(poolMatrix(m, 6, 10).size, 6);
  });

  test('next tokens at a position (causal models)', () => {
    const causal = fakeResult(tokens, 1, 1, true);
    assert.deepEqual(nextPayload(causal, 2, 3).candidates, [
      { token: ' x', probability: 0.5 },
      { token: ' y', probability: 0.25 },
    ]);
    assert.deepEqual(nextPayload(result, 2, 3).candidates, []);
    assert.deepEqual(readySummary(causal, 1, [], 0).surprisal!.slice(0, 3), [null, 1.235, 2.469]);
  });

  test('CSV: one row per weight, tokens quoted when needed; JSON: the CLI shape for the scope', () => {
    const odd = fakeResult(['[CLS]', 'a,b', ' "q"', '[SEP]'], 1, 2);
    const csv = attentionCsv(odd, { scope: 'head', layer: 0, head: 1 }).trim().split('\n');
    assert.equal(csv[0], 'layer,head,query,query_token,key,key_token,weight');
    assert.equal(csv.length, 1 + 16);
    assert.match(csv[2]!, /^0,1,0,\[CLS\],1,"a,b",0\.\d+$/);
    assert.match(csv[3]!, /^0,1,0,\[CLS\],2," ""q""",/);
    assert.equal(attentionCsv(result, { scope: 'all', layer: 0, head: 0 }).trim().split('\n').length, 1 + 2 * 3 * 49);
    const json = JSON.parse(attentionJson(result, { scope: 'layer', layer: 1, head: 0 }));
    assert.deepEqual(json.layerIndexes, [1]);
    assert.deepEqual(json.headIndexes, [0, 1, 2]);
    assert.equal(json.attentions.length, 1);
    assert.equal(json.attentions[0].length, 3);
    json.attentions[0][2].forEach((row: number[]) => assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5));
  });
});

describe('attention view: the text at the cursor', () => {
  const doc = source(
    [
      '# Title',
      '',
      'We sat on the bank of the river. She paid the money',
      'into her bank account! Then',
      '   we left.',
      '',
      'Another paragraph.',
    ].join('\n'),
  );

  test('the sentence under the cursor, across the lines of its paragraph', () => {
    const at = attentionTextAt(doc, { line: 3, character: 'into her '.length })!;
    assert.equal(at.text, 'She paid the money into her bank account!');
    assert.equal(at.text.slice(at.focus, at.focus + 4), 'bank');
    assert.equal(at.line, 2);
    assert.equal(attentionTextAt(doc, { line: 2, character: 3 })!.text, 'We sat on the bank of the river.');
    assert.equal(attentionTextAt(doc, { line: 4, character: 5 })!.text, 'Then we left.');
    // right after a full stop: that sentence
    assert.equal(attentionTextAt(doc, { line: 2, character: 32 })!.text, 'We sat on the bank of the river.');
    assert.equal(attentionTextAt(doc, { line: 1, character: 0 }), undefined);
  });

  test('a selection is used as it is', () => {
    const at = attentionTextAt(doc, { line: 3, character: 4 }, { line: 2, character: 14 })!;
    assert.equal(at.text, 'bank of the river. She paid the money into');
    assert.equal(at.text.slice(at.focus), '');
  });

  test('a 5,000-line paragraph and a 100 kB line are read within bounds, windowed around the cursor', () => {
    const huge = source(Array.from({ length: 5000 }, (_, i) => `line ${i} about the bank of a river and money`).join('\n'));
    const at = attentionTextAt(huge, { line: 2500, character: 'line 2500 about the '.length })!;
    assert.ok(at.text.length <= 2 * LIMITS.sideChars + 50, `${at.text.length} characters`);
    assert.equal(at.text.slice(at.focus, at.focus + 4), 'bank');
    assert.equal(at.clipped, true);
    const long = source('word '.repeat(20000) + 'bank ' + 'word '.repeat(20000));
    const wide = attentionTextAt(long, { line: 0, character: 100001 })!;
    assert.ok(wide.text.length <= 2 * LIMITS.sideChars + 10);
    assert.equal(wide.text.slice(wide.focus - 1, wide.focus + 3), 'bank');
  });
});

describe('layers panel: occurrences and their analysis', () => {
  const text = [
    'We sat on the bank of the river.',
    'She paid the money into her bank account.',
    '',
    'Banks lend money; the Bank closed. The river bank was muddy.',
  ].join('\n');

  test('every occurrence of the word (case ignored), with its sentence split at the word', () => {
    const found = findOccurrences(source(text), 1, 30)!;
    assert.equal(found.word, 'bank');
    assert.deepEqual(found.occurrences.map((o) => [o.line, o.character]), [
      [0, 14],
      [1, 28],
      [3, 22],
      [3, 45],
    ]);
    assert.equal(found.current, 1);
    const river = found.occurrences[3]!;
    assert.equal(river.context.text, 'The river bank was muddy.');
    assert.equal(`${river.before}[${river.context.word}]${river.after}`, 'The river [bank] was muddy.');
    assert.equal(findOccurrences(source(text), 2, 0), undefined);
    assert.deepEqual(splitAtOccurrence('a bank and a bank', 'bank', 2), { before: 'a bank and a ', after: '' });
  });

  test('at most MAX occurrences, the nearest to the cursor', () => {
    const many = source(Array.from({ length: 100 }, (_, i) => `bank number ${i}.`).join('\n'));
    const found = findOccurrences(many, 90, 1, 10)!;
    assert.equal(found.occurrences.length, 10);
    assert.equal(found.more, true);
    assert.ok(found.occurrences.every((o) => o.line >= 85 && o.line <= 95));
    assert.equal(found.occurrences[found.current]!.line, 90);
  });

  test('cosine matrix, PCA of points on a line, clusters of two senses', () => {
    const c = cosineMatrix([[1, 0], [0, 2], [1, 1]]);
    assert.deepEqual(c.map((x) => +x.toFixed(4)), [1, 0, 0.7071, 0, 1, 0.7071, 0.7071, 0.7071, 1]);
    const line = pca2([[0, 0, 0], [1, 2, 0], [2, 4, 0], [3, 6, 0]]);
    assert.ok(line.explained[0] > 0.999);
    const xs = line.points.map((p) => p[0]);
    assert.ok(Math.abs(Math.abs(xs[3]! - xs[0]!) - Math.sqrt(45)) < 1e-6, xs.join());
    line.points.forEach((p) => assert.ok(Math.abs(p[1]) < 1e-6));
    const river = [[1, 0.1, 0], [0.9, 0.2, 0.1], [1, 0, 0.1]];
    const money = [[0, 1, 0.1], [0.1, 0.9, 0], [0, 1, 0.2]];
    const groups = clusterGroups([river[0]!, money[0]!, river[1]!, money[1]!, river[2]!, money[2]!]);
    assert.deepEqual(groups, [0, 1, 0, 1, 0, 1]);
    assert.ok(silhouette([...river, ...money], [0, 0, 0, 1, 1, 1]) > 0.5);
    assert.deepEqual(clusterGroups([[1, 0], [1, 0.01], [0.99, 0]]), [0, 0, 0]); // nothing separates
  });

  test('LayersData: the summary, one occurrence heat map, one layer on demand', () => {
    const found = findOccurrences(source(text), 0, 15)!;
    const vec = (i: number, l: number): LayerVector => ({ layer: ['token', 'lstm1', 'lstm2'][l]!, vector: [1, l === 2 ? (i % 2 ? 1 : -1) : 0.5, -2 * l] });
    const items = found.occurrences.map((f, i) => ({ found: f, layers: [0, 1, 2].map((l) => vec(i, l)) }));
    const grouping = clusterGrouping(items);
    assert.equal(grouping.by, 'cluster');
    assert.match(grouping.note, /no sense model/);
    const data = new LayersData('bank', 'elmo-test', items, grouping, found.current, false);
    const s = data.summary(4, 'notes.md', { uri: 'file:///notes.md', line: 0, character: 15 });
    assert.equal(s.occurrences.length, 4);
    assert.deepEqual(s.layerNames, ['token', 'lstm1', 'lstm2']);
    assert.equal(s.dims, 3);
    assert.equal('vectors' in s, false);
    const v = data.vectors(4, 1);
    assert.deepEqual(v.vectors, [[1, 0.5, 0], [1, 0.5, -2], [1, 1, -4]]);
    assert.equal(v.scale, 4);
    const top = data.layer(4, 2);
    assert.equal(top.cosine.length, 16);
    assert.equal(top.points.length, 4);
    assert.equal(data.layer(5, 2).version, 5);
    assert.throws(() => data.layer(4, 3), /layer 3 is out of range/);
  });
});
