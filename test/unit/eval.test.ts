/**
 * The `eval` scoreboards: parsing pair and cloze files (errors name the file and line), tallying, and end to
 * end on the shipped models (media/models: gpt2-mini, bert-mini, nnlm-mini), whose answers are checked
 * against computations made here another way: `score` sums for the causal LM, ONNX Runtime run one masked
 * copy at a time (and `fill`'s probabilities) for the masked LM's pseudo-log-likelihood, ONNX Runtime run
 * one context at a time for the NNLM.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Engine, modelDirectories } from '../../src/engine/engine';
import { LensError } from '../../src/engine/errors';
import {
  clozeHit,
  isSpecialTokenText,
  MAX_CLOZE_MISSES,
  normaliseAnswer,
  pairSentences,
  pairsScored,
  parseCloze,
  parsePairs,
  parseSenseItems,
  parseTagged,
  tallyCloze,
  tallyPairs,
  tallySenses,
  tallyTags,
  MAX_TAG_CONFUSIONS,
  type PairItem,
} from '../../src/engine/eval/items';
import { continuesWord, maskedTogether, textPositions } from '../../src/engine/eval/likelihood';
import { logSoftmax } from '../../src/engine/sampling';
import { loadTokenizer, tokenTexts } from '../../src/engine/tokenizer';
import { DIST, SHIPPED_MODELS, tempDir } from './helpers/modelFolders';
import { lensError } from './helpers/lensError';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');

const workerPath = path.join(DIST, 'worker.js');

const badInput = (message: RegExp) => lensError('BAD_INPUT', message);

const pairLine = (good: string, bad: string, extra: object = {}): string => JSON.stringify({ sentence_good: good, sentence_bad: bad, ...extra });

describe('parsePairs', () => {
  test('BLiMP lines; blank lines skipped but counted; term from linguistics_term, else UID, else the file name', () => {
    const text = [
      pairLine('A cat sleeps.', 'A cat sleep.', { linguistics_term: 'agreement', UID: 'sv_agr', field: 'morphology' }),
      '',
      pairLine('Dogs bark.', 'Dogs barks.', { UID: 'sv_agr_2' }),
      pairLine('He left.', 'He leaved.'),
    ].join('\n');
    const items = parsePairs(`\uFEFF${text}\r\n`, '/data/blimp/irregular.jsonl');
    assert.deepEqual(items, [
      { good: 'A cat sleeps.', bad: 'A cat sleep.', term: 'agreement', file: 'irregular', line: 1 },
      { good: 'Dogs bark.', bad: 'Dogs barks.', term: 'sv_agr_2', file: 'irregular', line: 3 },
      { good: 'He left.', bad: 'He leaved.', term: 'irregular', file: 'irregular', line: 4 },
    ]);
  });

  test('a line that is not JSON, not an object, or lacks a sentence: BAD_INPUT with file and line', () => {
    const ok = pairLine('a b.', 'b a.');
    assert.throws(() => parsePairs([ok, ok, '{"sentence_good": "x",'].join('\n'), 'p.jsonl'), badInput(/^p\.jsonl:3: not a JSON object/));
    assert.throws(() => parsePairs([ok, '["a", "b"]'].join('\n'), 'p.jsonl'), badInput(/^p\.jsonl:2: not a JSON object/));
    assert.throws(() => parsePairs([ok, '', JSON.stringify({ sentence_good: 'x' })].join('\n'), 'p.jsonl'), badInput(/^p\.jsonl:3: "sentence_bad" is missing/));
    assert.throws(() => parsePairs(pairLine('  ', 'y'), 'p.jsonl'), badInput(/^p\.jsonl:1: "sentence_good" is missing or empty/));
    assert.throws(() => parsePairs(JSON.stringify({ sentence_good: 'x', sentence_bad: 3 }), 'p.jsonl'), badInput(/:1: "sentence_bad"/));
  });

  test('an empty file: BAD_INPUT naming it', () => {
    assert.throws(() => parsePairs('', 'empty.jsonl'), badInput(/^empty\.jsonl has no pairs/));
    assert.throws(() => parsePairs('\n  \n', 'blank.jsonl'), badInput(/^blank\.jsonl has no pairs/));
  });
});

describe('parseCloze', () => {
  test('answers split on |, trimmed; blank lines and # comments skipped, line numbers kept', () => {
    const text = '# a comment\n\ncoffee | tea\tShe drank hot [MASK].\n  # indented comment\ndog\tThe <mask> barked.\n';
    assert.deepEqual(parseCloze(text, 'c.tsv'), [
      { answers: ['coffee', 'tea'], sentence: 'She drank hot [MASK].', line: 3 },
      { answers: ['dog'], sentence: 'The <mask> barked.', line: 5 },
    ]);
  });

  test('no mask, two masks, no tab, no answer: BAD_INPUT with file and line', () => {
    const ok = 'a\tA [MASK].';
    assert.throws(() => parseCloze(`${ok}\nb\tNo mask here.`, 'c.tsv'), badInput(/^c\.tsv:2: the sentence has 0 \[MASK\] markers; a cloze line needs exactly one/));
    assert.throws(() => parseCloze(`${ok}\n\nb\tTwo [MASK] and [MASK].`, 'c.tsv'), badInput(/^c\.tsv:3: the sentence has 2 \[MASK\]/));
    assert.throws(() => parseCloze(`${ok}\nb A [MASK].`, 'c.tsv'), badInput(/^c\.tsv:2: expected "answer\|answer<TAB>sentence/));
    assert.throws(() => parseCloze(` | \tA [MASK].`, 'c.tsv'), badInput(/^c\.tsv:1: no answer/));
  });

  test('an empty file (or only comments): BAD_INPUT naming it', () => {
    assert.throws(() => parseCloze('', 'c.tsv'), badInput(/^c\.tsv has no cloze lines/));
    assert.throws(() => parseCloze('# only\n\n', 'c.tsv'), badInput(/^c\.tsv has no cloze lines/));
  });
});

describe('parseTagged', () => {
  test('word<TAB>tag lines; blank lines end sentences; # comments skipped but "#<TAB>tag" is a word; CRLF and BOM', () => {
    const text = '\uFEFF# sent_id = 1\r\nThe\tDET\r\ndog\tNOUN\r\n\r\n\r\n#\tX\nbarks\tVERB\n\n# tail comment\n';
    assert.deepEqual(parseTagged(text, 'g.tsv'), [
      { words: ['The', 'dog'], tags: ['DET', 'NOUN'], line: 2 },
      { words: ['#', 'barks'], tags: ['X', 'VERB'], line: 6 },
    ]);
  });

  test('no tab, extra columns, an empty word or tag, a word with a space: BAD_INPUT with file and line', () => {
    assert.throws(() => parseTagged('The\tDET\ndog NOUN', 'g.tsv'), badInput(/g\.tsv:2: expected "word<TAB>tag" \(no tab\)/));
    assert.throws(() => parseTagged('The\tDET\tx', 'g.tsv'), badInput(/g\.tsv:1: .*\(2 tabs\)/));
    assert.throws(() => parseTagged('\tDET', 'g.tsv'), badInput(/g\.tsv:1: the word is empty/));
    assert.throws(() => parseTagged('dog\t ', 'g.tsv'), badInput(/g\.tsv:1: the tag is empty/));
    assert.throws(() => parseTagged('New\u00a0York\tNOUN', 'g.tsv'), badInput(/g\.tsv:1: the word "New.York" holds whitespace/));
  });

  test('an empty file (or only comments): BAD_INPUT naming it', () => {
    assert.throws(() => parseTagged('# nothing\n\n', '/x/e.tsv'), badInput(/\/x\/e\.tsv has no tagged words/));
  });
});

describe('parseSenseItems', () => {
  test('word<TAB>sense key<TAB>sentence; blank lines and # comments skipped, fields trimmed, CRLF and BOM', () => {
    const text = '\uFEFF# gold senses\r\nbank\tbank%1:17:01::\tWe sat on the bank.\r\n\r\n Fair \tfair%5:00:00:clear:03\tFair weather today.\n';
    assert.deepEqual(parseSenseItems(text, 's.tsv'), [
      { word: 'bank', key: 'bank%1:17:01::', sentence: 'We sat on the bank.', line: 2 },
      { word: 'Fair', key: 'fair%5:00:00:clear:03', sentence: 'Fair weather today.', line: 4 },
    ]);
  });

  test('a wrong number of tabs, an empty word or sentence, a malformed sense key: BAD_INPUT with file and line', () => {
    const cases: [string, RegExp][] = [
      ['bank\tWe sat on the bank.', /s\.tsv:1: expected "word<TAB>sense key<TAB>sentence" \(1 tab\)/],
      ['bank\tbank%1:17:01::\tWe sat.\textra', /s\.tsv:1: expected .* \(3 tabs\)/],
      ['\tbank%1:17:01::\tWe sat on the bank.', /s\.tsv:1: the word is empty/],
      ['# c\nbank\tbank%1:17:01::\t ', /s\.tsv:2: the sentence is empty/],
      ['bank\tbank%1:17\tWe sat on the bank.', /s\.tsv:1: "bank%1:17" is not a WordNet sense key/],
      ['bank\tbank%6:17:01::\tWe sat on the bank.', /"bank%6:17:01::" is not a WordNet sense key/],
      ['bank\tBank%1:17:01::\tWe sat on the bank.', /"Bank%1:17:01::" is not a WordNet sense key/],
    ];
    for (const [text, message] of cases) assert.throws(() => parseSenseItems(text, 's.tsv'), badInput(message), text);
  });

  test('an empty file (or only comments): BAD_INPUT naming it', () => {
    assert.throws(() => parseSenseItems('# nothing\n\n', 'e.tsv'), badInput(/e\.tsv has no sense lines/));
  });
});

describe('tallySenses', () => {
  test("accuracy overall and by the gold key's part of speech (satellites are adjectives); misses with the gold rank", () => {
    const items = [
      { word: 'bank', key: 'bank%1:17:01::', sentence: 'S1', line: 1 },
      { word: 'bank', key: 'bank%1:14:00::', sentence: 'S2', line: 2 },
      { word: 'run', key: 'run%2:38:00::', sentence: 'S3', line: 4 },
      { word: 'fair', key: 'fair%5:00:00:clear:03', sentence: 'S4', line: 5 },
      { word: 'kind', key: 'kind%3:00:00::', sentence: 'S5', line: 6 },
    ];
    const pick = (senseKey: string, candidates: string[]) => ({ senseKey, gloss: `gloss of ${senseKey}`, candidates });
    const result = tallySenses(items, [
      pick('bank%1:17:01::', ['bank%1:17:01::', 'bank%1:14:00::']),
      pick('bank%1:17:01::', ['bank%1:17:01::', 'bank%1:06:00::', 'bank%1:14:00::']),
      pick('run%2:38:00::', ['run%2:38:00::']),
      pick('fair%5:00:00:clear:03', ['fair%5:00:00:clear:03', 'fair%3:00:03::']),
      pick('kind%1:09:00::', ['kind%1:09:00::']), // the tagged part of speech left the adjective out
    ]);
    assert.equal(result.items, 5);
    assert.equal(result.accuracy, 3 / 5);
    assert.deepEqual(result.byPos, { a: { items: 2, accuracy: 1 / 2 }, n: { items: 2, accuracy: 1 / 2 }, v: { items: 1, accuracy: 1 } });
    assert.equal(result.goldNotCandidate, 1);
    assert.deepEqual(result.misses, [
      { line: 2, word: 'bank', sentence: 'S2', gold: 'bank%1:14:00::', predicted: 'bank%1:17:01::', predictedGloss: 'gloss of bank%1:17:01::', goldRank: 3 },
      { line: 6, word: 'kind', sentence: 'S5', gold: 'kind%3:00:00::', predicted: 'kind%1:09:00::', predictedGloss: 'gloss of kind%1:09:00::', goldRank: null },
    ]);
  });
});

describe('tallyTags', () => {
  test('accuracy over words, by gold tag (most frequent first), confusions by count, gold tags the model lacks', () => {
    const sentences = [
      { words: ['the', 'dog', 'barks'], tags: ['DET', 'NOUN', 'VERB'], line: 1 },
      { words: ['a', 'run', 'runs', 'NYC'], tags: ['DET', 'NOUN', 'VERB', 'PROPN'], line: 5 },
    ];
    const predicted = [
      ['DET', 'NOUN', 'NOUN'],
      ['DET', 'VERB', 'NOUN', 'NOUN'],
    ];
    const tally = tallyTags(sentences, predicted, ['DET', 'NOUN', 'VERB']);
    assert.deepEqual(tally, {
      sentences: 2,
      words: 7,
      accuracy: 3 / 7,
      byTag: { DET: { words: 2, accuracy: 1 }, VERB: { words: 2, accuracy: 0 }, NOUN: { words: 2, accuracy: 0.5 }, PROPN: { words: 1, accuracy: 0 } },
      confusions: [
        { gold: 'VERB', predicted: 'NOUN', count: 2 },
        { gold: 'NOUN', predicted: 'VERB', count: 1 },
        { gold: 'PROPN', predicted: 'NOUN', count: 1 },
      ],
      tagsNotInModel: ['PROPN'],
    });
  });

  test('at most MAX_TAG_CONFUSIONS confusions', () => {
    const tags = Array.from({ length: MAX_TAG_CONFUSIONS + 5 }, (_, i) => `T${i}`);
    const tally = tallyTags([{ words: tags, tags, line: 1 }], [tags.map(() => 'X')], ['X']);
    assert.equal(tally.accuracy, 0);
    assert.equal(tally.confusions.length, MAX_TAG_CONFUSIONS);
  });
});

describe('tallying', () => {
  const item = (term: string, file: string, good = 'g', bad = 'b'): PairItem => ({ good, bad, term, file, line: 1 });

  test('accuracy overall, by term and by file; a tie and NaN count as failures', () => {
    const items = [item('agr', 'f1'), item('agr', 'f1'), item('agr', 'f2'), item('island', 'f2'), item('island', 'f2')];
    const good = [-1, -5, -2, -3, Number.NaN];
    const bad = [-2, -4, -2, -4, -1];
    assert.deepEqual(tallyPairs(items, good, bad, true), {
      pairs: 5,
      accuracy: 2 / 5,
      ties: 1,
      byTerm: { agr: { pairs: 3, accuracy: 1 / 3 }, island: { pairs: 2, accuracy: 1 / 2 } },
      byFile: { f1: { pairs: 2, accuracy: 1 / 2 }, f2: { pairs: 3, accuracy: 1 / 3 } },
    });
    assert.equal('byFile' in tallyPairs(items, good, bad, false), false);
  });

  test('distinct sentences once; a pair with the same sentence twice points at one entry; pairs done for progress', () => {
    const items = [item('t', 'f', 'a', 'b'), item('t', 'f', 'c', 'c'), item('t', 'f', 'b', 'a')];
    const { sentences, good, bad } = pairSentences(items);
    assert.deepEqual(sentences, ['a', 'b', 'c']);
    assert.deepEqual(good, [0, 2, 1]);
    assert.deepEqual(bad, [1, 2, 0]);
    assert.deepEqual([0, 1, 2, 3].map((done) => pairsScored(good, bad, done)), [0, 0, 2, 3]);
  });

  test('answers and fills compared trimmed, lower case, without ## and BPE / SentencePiece space marks', () => {
    assert.equal(normaliseAnswer(' ##Ing '), 'ing');
    assert.equal(normaliseAnswer('\u0120Dog'), 'dog');
    assert.equal(normaliseAnswer('\u2581Cat'), 'cat');
    assert.deepEqual(clozeHit(['Coffee ', 'tea'], ['\u0120coffee', 'milk']), { top1: true, top5: true });
    assert.deepEqual(clozeHit(['tea'], ['coffee', 'a', 'b', 'c', 'TEA']), { top1: false, top5: true });
    assert.deepEqual(clozeHit(['tea'], ['coffee', 'a', 'b', 'c', 'd', 'tea']), { top1: false, top5: false });
    assert.deepEqual(clozeHit(['tea'], []), { top1: false, top5: false });
    assert.ok(isSpecialTokenText('[unused12]') && isSpecialTokenText('[CLS]') && isSpecialTokenText('<|endoftext|>') && isSpecialTokenText('<pad>'));
    assert.ok(!isSpecialTokenText('dog') && !isSpecialTokenText('[') && !isSpecialTokenText('<'));
  });

  test('cloze top-1 / top-5 and the misses (top-1 wrong), at most MAX_CLOZE_MISSES', () => {
    const items = [
      { answers: ['a'], sentence: 's1 [MASK]', line: 1 },
      { answers: ['b'], sentence: 's2 [MASK]', line: 2 },
      { answers: ['z'], sentence: 's3 [MASK]', line: 4 },
    ];
    const result = tallyCloze(items, [['a', 'x'], ['x', 'b', 'y', 'w', 'v', 'u'], ['x']]);
    assert.equal(result.items, 3);
    assert.equal(result.top1, 1 / 3);
    assert.equal(result.top5, 2 / 3);
    assert.deepEqual(result.misses, [
      { line: 2, sentence: 's2 [MASK]', answers: ['b'], predicted: ['x', 'b', 'y', 'w', 'v'] },
      { line: 4, sentence: 's3 [MASK]', answers: ['z'], predicted: ['x'] },
    ]);
    const many = Array.from({ length: 150 }, (_, i) => ({ answers: ['a'], sentence: `[MASK] ${i}`, line: i + 1 }));
    assert.equal(tallyCloze(many, many.map(() => ['b'])).misses.length, MAX_CLOZE_MISSES);
  });

  test("PLL masks the text's own tokens, not the ones the tokenizer adds around it", () => {
    const special = new Set([101, 102, 100]);
    assert.deepEqual(textPositions([101, 7, 100, 9, 102], [7, 100, 9], special), [1, 2, 3]); // an [UNK] in the text is masked
    assert.deepEqual(textPositions([101, 7, 9, 102], [], special), [1, 2]); // fallback: every non-special token
  });

  test('within-word-l2r: which tokens go on a word (from their texts) and what is masked with each', () => {
    // WordPiece-like texts: '' for special tokens, a space before a word's first piece, none before "##" pieces
    const texts = ['', '', ' the', ' mail', 'man', '.', ' don', "'", 't', ' 3', '5', ' é', 'té'];
    const ids = [0, 2, 3, 4, 5, 6, 7, 8, 9, 5, 10, 11, 12, 1];
    const continues = continuesWord(ids, texts);
    assert.deepEqual(continues, [false, false, false, true, false, false, false, false, false, false, false, false, true, false]);
    assert.deepEqual(maskedTogether(2, continues), [2, 3]); // "mail" with "man"
    assert.deepEqual(maskedTogether(3, continues), [3]); // "man" alone: nothing of its word after it
    assert.deepEqual(maskedTogether(5, continues), [5]); // "don" ' t and 3 . 5: punctuation splits words, as pre-tokenizers do
    assert.deepEqual(maskedTogether(11, continues), [11, 12]); // letters beyond ASCII
    assert.deepEqual(maskedTogether(2, undefined), [2]); // the original PLL
  });
});

const shipped = (id: string): boolean => existsSync(path.join(SHIPPED_MODELS, id, 'onnx', 'model.onnx'));
const haveModels = shipped('gpt2-mini') && shipped('bert-mini') && shipped('nnlm-mini');

describe('eval on the shipped models', { skip: haveModels ? false : 'gpt2-mini, bert-mini or nnlm-mini is missing from media/models' }, () => {
  const files = tempDir('lm-lens-eval-');
  let engine: Engine;
  const write = (name: string, text: string): string => {
    const file = path.join(files.dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    return file;
  };

  before(() => {
    // rewritten graphs (the masked LM's head at the scored positions) go to a cache of the test's, not the repository
    engine = new Engine({ modelDirectories: modelDirectories(SHIPPED_MODELS), workerPath, cacheDir: path.join(files.dir, 'cache') });
  });
  after(async () => {
    await engine.dispose();
    files.remove();
  });

  const natural = [
    'The dog barked at the mailman.',
    'She paid the money into her bank account.',
    'The President said that the war was over.',
    'We sat on the bank of the river.',
  ];
  /** The same words reversed, and a string of one rare token: gibberish by construction. */
  const reversed = (s: string): string => s.replace(/\.$/, '').split(' ').reverse().join(' ') + '.';

  test('causal LM: the sentence log-likelihoods are the sums of `score`; pairs are the comparison of those sums', async () => {
    const pairs: [string, string, string][] = [
      ...natural.map((s): [string, string, string] => [s, reversed(s), 'order']),
      [natural[0]!, 'zx zx zx zx zx zx zx.', 'rare'],
      [reversed(natural[1]!), natural[1]!, 'backwards'], // the "good" sentence is the gibberish: expected a failure
      [natural[2]!, natural[2]!, 'same'], // identical sentences tie: a failure
    ];
    const folder = path.join(files.dir, 'causal');
    write('causal/a.jsonl', pairs.slice(0, 4).map(([g, b, t]) => pairLine(g, b, { linguistics_term: t })).join('\n'));
    write('causal/b.jsonl', pairs.slice(4).map(([g, b, t]) => pairLine(g, b, { linguistics_term: t })).join('\n') + '\n');
    write('causal/notes.txt', 'not a pairs file');

    const sentences = [...new Set(pairs.flatMap(([g, b]) => [g, b]))];
    const sums = new Map<string, number>();
    for (const s of sentences) {
      const scored = await engine.score({ text: s, model: 'gpt2-mini' });
      sums.set(s, scored.tokenLogProbs.reduce((a, b) => a + b, 0));
    }
    const likelihoods = await engine.logLikelihoods({ sentences, model: 'gpt2-mini' });
    assert.equal(likelihoods.method, 'token-log-probs');
    sentences.forEach((s, i) => assert.equal(likelihoods.logLikelihoods[i], sums.get(s), s));

    const expected = pairs.map(([g, b]) => sums.get(g)! > sums.get(b)!);
    assert.deepEqual(expected.slice(0, 5), [true, true, true, true, true], 'gibberish scores lower (by construction)');
    assert.deepEqual(expected.slice(5), [false, false]);
    const result = await engine.evalPairs({ file: folder, model: 'gpt2-mini' });
    assert.equal(result.model, 'gpt2-mini');
    assert.equal(result.pairs, 7);
    assert.equal(result.accuracy, expected.filter(Boolean).length / 7);
    assert.equal(result.ties, 1);
    assert.deepEqual(result.byTerm, {
      backwards: { pairs: 1, accuracy: 0 },
      order: { pairs: 4, accuracy: 1 },
      rare: { pairs: 1, accuracy: 1 },
      same: { pairs: 1, accuracy: 0 },
    });
    assert.deepEqual(result.byFile, { a: { pairs: 4, accuracy: 1 }, b: { pairs: 3, accuracy: 1 / 3 } });
    const one = await engine.evalPairs({ file: path.join(folder, 'b.jsonl'), model: 'gpt2-mini' });
    assert.equal(one.byFile, undefined);
  });

  /**
   * A pseudo-log-likelihood computed here with ONNX Runtime, one masked copy per run: for each token between [CLS] and
   * [SEP], the tokens `masked(i, tokens)` replaced by [MASK] and the log-probability of token i at i.
   */
  async function pllByHand(sentence: string, masked: (i: number, tokens: string[]) => number[]): Promise<{ sum: number; tokens: number }> {
    const tokenizer = await loadTokenizer(path.join(SHIPPED_MODELS, 'bert-mini'));
    const { ids, tokens } = tokenizer.encode(sentence);
    const maskId = tokenizer.token_to_id('[MASK]')!;
    const session = await ort.InferenceSession.create(path.join(SHIPPED_MODELS, 'bert-mini', 'onnx', 'model.onnx'));
    const feedsFor = (row: number[]): Record<string, import('onnxruntime-node').Tensor> => {
      const all: Record<string, import('onnxruntime-node').Tensor> = {
        input_ids: new ort.Tensor('int64', BigInt64Array.from(row, BigInt), [1, row.length]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(row.length).fill(1n), [1, row.length]),
        token_type_ids: new ort.Tensor('int64', new BigInt64Array(row.length), [1, row.length]),
      };
      return Object.fromEntries(session.inputNames.map((name) => [name, all[name]!]));
    };
    let sum = 0;
    for (let i = 1; i < ids.length - 1; i++) {
      const row = [...ids];
      for (const j of masked(i, tokens)) row[j] = maskId;
      const { logits } = await session.run(feedsFor(row));
      const vocab = logits!.dims[2]!;
      sum += logSoftmax((logits!.data as Float32Array).subarray(i * vocab, (i + 1) * vocab))[ids[i]!]!;
    }
    await session.release();
    return { sum, tokens: ids.length - 2 };
  }

  test('masked LM: pseudo-log-likelihood = the sum over tokens of log p(token | the rest), each masked alone', async () => {
    const sentence = 'The dog barked at the mailman in the garden.';
    const result = await engine.logLikelihoods({ sentences: [sentence], model: 'bert-mini' });
    assert.equal(result.method, 'pseudo-log-likelihood');
    const expected = await pllByHand(sentence, (i) => [i]); // [CLS] and [SEP] never masked
    assert.equal(result.tokens[0], expected.tokens);
    assert.ok(Math.abs(result.logLikelihoods[0]! - expected.sum) < 1e-4, `${result.logLikelihoods[0]} vs ${expected.sum}`);
    // the sums came from a copy whose head runs at the masked positions only (onnx/headGather.ts), cached
    assert.equal(result.headAtScoredPositions, true);
    assert.ok(readdirSync(path.join(files.dir, 'cache')).some((f) => /\.head-logits\.v\d+\.onnx$/.test(f)));
  });

  test("masked LM, within-word-l2r: each token masked with the later pieces of its word (WordPiece's ## pieces)", async () => {
    const sentences = ['The dog barked at the mailman in the garden.', "She didn't unbutton the overcoat."];
    const result = await engine.logLikelihoods({ sentences, model: 'bert-mini', pll: 'within-word-l2r' });
    assert.equal(result.method, 'pseudo-log-likelihood-within-word-l2r');
    const original = await engine.logLikelihoods({ sentences, model: 'bert-mini' });
    for (const [n, sentence] of sentences.entries()) {
      // the word's later pieces, from the tokens' spelling here (the engine reads them off the decoded texts)
      const expected = await pllByHand(sentence, (i, tokens) => {
        const masked = [i];
        for (let j = i + 1; tokens[j]?.startsWith('##'); j++) masked.push(j);
        return masked;
      });
      assert.equal(result.tokens[n], expected.tokens);
      assert.ok(Math.abs(result.logLikelihoods[n]! - expected.sum) < 1e-4, `${sentence}: ${result.logLikelihoods[n]} vs ${expected.sum}`);
      // "bark ##ed", "mail ##man", "unb ##ut ##ton", "over ##co ##at": other masks, another sum
      assert.notEqual(result.logLikelihoods[n], original.logLikelihoods[n], sentence);
    }
    const single = await engine.logLikelihoods({ sentences: ['he was in the house .'], model: 'bert-mini', pll: 'within-word-l2r' });
    const same = await engine.logLikelihoods({ sentences: ['he was in the house .'], model: 'bert-mini' });
    assert.equal(single.logLikelihoods[0], same.logLikelihoods[0], 'no word in pieces: the same masks, the same sum');
  });

  test("masked LM: pseudo-log-likelihood = the sum of fill's probability of each word at its mask", async () => {
    // short sentences of frequent words, so that each word is among fill's 50 candidates when masked
    const candidates = ['he was in the house .', 'and the , of the .', 'he said , and the man said .'];
    let checked = 0;
    for (const sentence of candidates) {
      const words = sentence.split(' ');
      let sum = 0;
      let complete = true;
      for (let i = 0; i < words.length && complete; i++) {
        const text = words.map((w, j) => (j === i ? '[MASK]' : w)).join(' ');
        const fill = await engine.fill({ text, topK: 50, model: 'bert-mini' });
        const found = fill.masks[0]!.predictions.find((p) => p.token === words[i]);
        if (found) sum += Math.log(found.score);
        else complete = false;
      }
      if (!complete) continue;
      const { logLikelihoods } = await engine.logLikelihoods({ sentences: [sentence], model: 'bert-mini' });
      assert.ok(Math.abs(logLikelihoods[0]! - sum) < 1e-4, `${sentence}: ${logLikelihoods[0]} vs ${sum}`);
      checked++;
    }
    assert.ok(checked > 0, 'no candidate sentence had every word among the 50 fills');
  });

  test("within-word-l2r's words are the pre-tokenizers' words, for WordPiece (bert-mini) and byte-level BPE (gpt2-mini)", async () => {
    const sentences = [
      "The mailman's unbuttoned overcoat, 3.5 times as heavy as Zxqvbert's.",
      'A naïve café-goer said: "déjà vu" (twice)!',
      'snake_case and camelCase identifiers, e.g. getElementById()',
    ];
    for (const id of ['bert-mini', 'gpt2-mini']) {
      const tokenizer = await loadTokenizer(path.join(SHIPPED_MODELS, id));
      const texts = tokenTexts(tokenizer);
      for (const sentence of sentences) {
        const { ids } = tokenizer.encode(sentence, { add_special_tokens: false });
        const continues = continuesWord(ids, texts);
        const groups: number[][] = [];
        ids.forEach((token, i) => (continues[i] ? groups[groups.length - 1]!.push(token) : groups.push([token])));
        const words = groups.map((group) => tokenizer.decode(group).trim());
        // letters, digits and marks in runs, any other character a word of its own; bert-mini lower-cases and strips
        // accents, GPT-2's pre-tokenizer keeps English contractions ('s, 't, 're, ...) whole
        const normalised = id === 'bert-mini' ? sentence.toLowerCase().normalize('NFD').replace(/\p{M}/gu, '') : sentence;
        const word = id === 'bert-mini' ? /[\p{L}\p{N}\p{M}]+|[^\s\p{L}\p{N}\p{M}]/gu : /'(?:s|t|re|ve|m|ll|d)\b|[\p{L}\p{N}\p{M}]+|[^\s\p{L}\p{N}\p{M}]/gu;
        assert.deepEqual(words, normalised.match(word), `${id}: ${sentence}`);
      }
    }
  });

  test('masked LM: pairs compare the pseudo-log-likelihoods', async () => {
    const file = write('masked.jsonl', natural.map((s) => pairLine(s, reversed(s), { UID: 'order' })).join('\n'));
    const { logLikelihoods } = await engine.logLikelihoods({ sentences: natural.flatMap((s) => [s, reversed(s)]), model: 'bert-mini' });
    const correct = natural.filter((_, i) => logLikelihoods[2 * i]! > logLikelihoods[2 * i + 1]!).length;
    const result = await engine.evalPairs({ file, model: 'bert-mini' });
    assert.deepEqual(
      { method: result.method, pairs: result.pairs, accuracy: result.accuracy, byTerm: result.byTerm },
      { method: 'pseudo-log-likelihood', pairs: 4, accuracy: correct / 4, byTerm: { order: { pairs: 4, accuracy: correct / 4 } } },
    );
  });

  test('NNLM: the sum of each word given the 4 before it, <S> before the first', async () => {
    const sentences = ['The dog barked at the mailman.', 'Zyzzyva the of.'];
    const result = await engine.logLikelihoods({ sentences, model: 'nnlm-mini' });
    assert.equal(result.method, 'ngram-log-probs');
    const folder = path.join(SHIPPED_MODELS, 'nnlm-mini');
    const vocab = (JSON.parse(readFileSync(path.join(folder, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } }).model.vocab;
    const session = await ort.InferenceSession.create(path.join(folder, 'onnx', 'model.onnx'));
    for (const [k, sentence] of sentences.entries()) {
      const words = sentence.toLowerCase().replace(/\./, ' .').split(/\s+/).filter(Boolean);
      const ids = words.map((w) => vocab[w] ?? vocab['<unk>']!);
      const padded = [vocab['<S>']!, vocab['<S>']!, vocab['<S>']!, vocab['<S>']!, ...ids];
      let expected = 0;
      for (let j = 0; j < ids.length; j++) {
        const { logits } = await session.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(padded.slice(j, j + 4), BigInt), [1, 4]) });
        expected += logSoftmax(logits!.data as Float32Array)[ids[j]!]!;
      }
      assert.equal(result.tokens[k], ids.length);
      assert.ok(Math.abs(result.logLikelihoods[k]! - expected) < 1e-4, `${sentence}: ${result.logLikelihoods[k]} vs ${expected}`);
    }
  });

  test("cloze: answers taken from the model's own best fill give top-1 = 1; impossible answers give 0", async () => {
    const sentences = ['The [MASK] barked at the mailman.', 'She paid the money into her [MASK] account.', 'He said that the [MASK] was over.'];
    const best: string[][] = [];
    for (const text of sentences) {
      const fill = await engine.fill({ text, topK: 10, model: 'bert-mini' });
      best.push(fill.masks[0]!.predictions.map((p) => p.token).filter((t) => !isSpecialTokenText(t)).slice(0, 5));
    }
    const own = write('own.tsv', '# the model\'s own best fills\n' + sentences.map((s, i) => `another|${best[i]![0]}\t${s}`).join('\n') + '\n');
    const right = await engine.evalCloze({ file: own, model: 'bert-mini' });
    assert.deepEqual(right, { model: 'bert-mini', items: 3, top1: 1, top5: 1, misses: [] });

    const wrong = write('wrong.tsv', sentences.map((s) => `qqqzzz|xxyyqq\t${s}`).join('\n'));
    const missed = await engine.evalCloze({ file: wrong, model: 'bert-mini' });
    assert.equal(missed.top1, 0);
    assert.equal(missed.top5, 0);
    assert.deepEqual(
      missed.misses,
      sentences.map((sentence, i) => ({ line: i + 1, sentence, answers: ['qqqzzz', 'xxyyqq'], predicted: best[i] })),
    );
  });

  test("senses: gold keys taken from sense's own picks give 1, its runner-ups 0 with rank 2; a one-sense word is always right", async () => {
    const items: [string, string][] = [
      ['bank', 'She paid the money into her bank account.'],
      ['bank', 'We sat on the bank of the river.'],
      ['run', 'I run along the river every morning.'],
      ['giraffe', 'A giraffe ate leaves from the tall tree.'], // one WordNet sense
    ];
    for (const posFilter of [true, false]) {
      const picks = [];
      for (const [word, text] of items) picks.push(await engine.sense({ text, word, posFilter }));
      const request = (name: string, keys: string[]) => ({
        file: write(name, keys.map((key, i) => `${items[i]![0]}\t${key}\t${items[i]![1]}`).join('\n')),
        ...(posFilter ? {} : { posFilter: false }),
      });
      const own = await engine.evalSenses(request(`own-${posFilter}.tsv`, picks.map((p) => p.senseKey)));
      assert.equal(own.accuracy, 1);
      assert.deepEqual(own.misses, []);
      assert.deepEqual(own.models, picks[0]!.models);
      assert.equal(own.tagger, picks[0]!.tag?.model);
      assert.equal(picks[3]!.candidates.length, 1);
      const second = picks.map((p) => p.candidates[1]?.senseKey ?? p.senseKey);
      const runnerUp = await engine.evalSenses(request(`second-${posFilter}.tsv`, second));
      assert.equal(runnerUp.accuracy, 1 / 4, 'only the one-sense word is right');
      assert.equal(runnerUp.goldNotCandidate, 0);
      assert.deepEqual(runnerUp.misses.map((m) => [m.line, m.predicted, m.goldRank]), picks.slice(0, 3).map((p, i) => [i + 1, p.senseKey, 2]));
    }
    const elsewhere = await engine.evalSenses({ file: write('elsewhere.tsv', 'river\tbank%1:17:01::\tWe sat by the river.') });
    assert.equal(elsewhere.accuracy, 0);
    assert.equal(elsewhere.goldNotCandidate, 1);
    assert.equal(elsewhere.misses[0]!.goldRank, null);
  });

  test('senses: a word not in its sentence is BAD_INPUT naming the line; a cancel stops between items', async () => {
    await assert.rejects(
      engine.evalSenses({ file: write('missing-word.tsv', 'bank\tbank%1:17:01::\tWe sat on the bank.\nbank\tbank%1:17:01::\tWe sat by the river.') }),
      badInput(/missing-word\.tsv:2: "bank" does not occur in the text/),
    );
    await assert.rejects(engine.evalSenses({ file: write('pf.tsv', 'bank\tbank%1:17:01::\tA bank.'), posFilter: 'no' as unknown as boolean }), badInput(/posFilter must be true or false/));
    await assert.rejects(engine.evalSenses({ file: write('kind.tsv', 'bank\tbank%1:17:01::\tA bank.'), model: 'gpt2-mini' }), badInput(/"gpt2-mini" is a causal-lm model; eval senses needs a bilm or masked-lm model/));
    await assert.rejects(engine.evalSenses({ file: write('kind.tsv', 'bank\tbank%1:17:01::\tA bank.'), model: 'no-such-model' }), (e: unknown) => e instanceof LensError && e.code === 'MODEL_NOT_FOUND');
    const file = write('many.tsv', Array.from({ length: 50 }, (_, i) => `bank\tbank%1:17:01::\tOn day ${i} we sat on the bank of the river.`).join('\n'));
    const controller = new AbortController();
    let progressed: number | undefined;
    const run = engine.evalSenses({ file }, controller.signal, (progress) => {
      progressed ??= progress.done;
      controller.abort();
    });
    await assert.rejects(run, (e: unknown) => e instanceof LensError && e.code === 'CANCELLED');
    assert.ok(progressed !== undefined && progressed < 50, `cancelled mid-run (after ${progressed} items)`);
  });

  test("perplexity: score's perplexity over the whole file", async () => {
    const text = natural.join(' ') + '\n' + natural.join('\n');
    const file = write('text.txt', text);
    const result = await engine.evalPerplexity({ file, model: 'gpt2-mini' });
    const scored = await engine.score({ text, model: 'gpt2-mini' });
    assert.deepEqual(result, { model: 'gpt2-mini', tokens: scored.tokenLogProbs.length, perplexity: scored.perplexity, windows: scored.windows });
  });

  test('errors: missing file, folder without .jsonl, empty files, a bad line, unknown model, wrong kind', async () => {
    const pairs = write('ok.jsonl', pairLine('The dog barked.', 'Dog the barked.'));
    await assert.rejects(engine.evalPairs({ file: path.join(files.dir, 'missing.jsonl'), model: 'gpt2-mini' }), badInput(/Cannot read .*missing\.jsonl: ENOENT/));
    mkdirSync(path.join(files.dir, 'none'), { recursive: true });
    await assert.rejects(engine.evalPairs({ file: path.join(files.dir, 'none'), model: 'gpt2-mini' }), badInput(/none has no \.jsonl files/));
    await assert.rejects(engine.evalPairs({ file: write('empty.jsonl', ''), model: 'gpt2-mini' }), badInput(/empty\.jsonl has no pairs/));
    await assert.rejects(engine.evalCloze({ file: write('two.tsv', 'a\tOne [MASK].\nb\tTwo [MASK] [MASK].'), model: 'bert-mini' }), badInput(/two\.tsv:2: the sentence has 2/));
    await assert.rejects(engine.evalPerplexity({ file: write('empty.txt', ' \n'), model: 'gpt2-mini' }), badInput(/empty\.txt is empty/));
    await assert.rejects(engine.evalCloze({ file: files.dir, model: 'bert-mini' }), badInput(/is a folder; give a file/));
    const nulAt = (at: number) => Buffer.concat([Buffer.alloc(at, 0x61), Buffer.from([0]), Buffer.from(' The end.\n')]);
    writeFileSync(path.join(files.dir, 'late-nul.txt'), nulAt(7999)); // the last byte git's test looks at
    await assert.rejects(engine.evalPerplexity({ file: path.join(files.dir, 'late-nul.txt'), model: 'gpt2-mini' }), badInput(/late-nul\.txt looks like a binary file/));
    writeFileSync(path.join(files.dir, 'later-nul.txt'), nulAt(8000)); // past it: read as text
    assert.equal((await engine.evalPerplexity({ file: path.join(files.dir, 'later-nul.txt'), model: 'gpt2-mini' })).model, 'gpt2-mini');
    await assert.rejects(engine.evalPairs({ file: pairs, model: 'no-such-model' }), (e: unknown) => e instanceof LensError && e.code === 'MODEL_NOT_FOUND');
    await assert.rejects(engine.evalPairs({ file: pairs, model: 'glove-100d' }), badInput(/eval pairs needs a causal-lm or masked-lm or nnlm model/));
    await assert.rejects(engine.evalCloze({ file: write('c.tsv', 'a\tThe [MASK].'), model: 'gpt2-mini' }), badInput(/eval cloze needs a masked-lm model/));
    await assert.rejects(engine.evalPairs({ file: pairs, model: 'gpt2-mini', pll: 'within-word-l2r' }), badInput(/"within-word-l2r" is for masked LMs; "gpt2-mini" is a causal-lm/));
    await assert.rejects(engine.evalPairs({ file: pairs, model: 'bert-mini', pll: 'word' as 'original' }), badInput(/Unknown pseudo-log-likelihood "word"; use original or within-word-l2r/));
    await assert.rejects(engine.logLikelihoods({ sentences: ['A.'], pll: 'word' as 'original' }), badInput(/Unknown pseudo-log-likelihood "word"/));
    await assert.rejects(engine.evalPerplexity({ file: pairs, model: 'bert-mini' }), badInput(/eval perplexity needs a causal-lm model/));
  });

  test('cancel: a long run stops with CANCELLED between sentences, and the engine answers the next request', async () => {
    const long = Array.from({ length: 400 }, (_, i) => pairLine(`${natural[i % 4]} It was day ${i} of the long summer.`, `${reversed(natural[i % 4]!)} ${i}`));
    const file = write('long.jsonl', long.join('\n'));
    const controller = new AbortController();
    let progressed: number | undefined;
    const run = engine.evalPairs({ file, model: 'bert-mini' }, controller.signal, (progress) => {
      progressed ??= progress.done;
      controller.abort(); // on the first progress report: mid-run
    });
    await assert.rejects(run, (e: unknown) => e instanceof LensError && e.code === 'CANCELLED');
    assert.ok(progressed !== undefined && progressed < 400, `cancelled mid-run (after ${progressed} pairs)`);
    const again = await engine.logLikelihoods({ sentences: ['The dog barked.'], model: 'nnlm-mini' });
    assert.equal(again.logLikelihoods.length, 1);
  });
});

describe('lm-lens eval (the CLI)', { skip: haveModels ? false : 'the shipped models are missing' }, () => {
  const files = tempDir('lm-lens-eval-cli-');
  after(() => files.remove());
  const cli = (args: string[]) => spawnSync(process.execPath, [path.join(DIST, 'cli.js'), '--models-dir', SHIPPED_MODELS, ...args], { encoding: 'utf8', timeout: 60_000 });

  test('eval pairs prints the scoreboard; a bad task or a bad line is exit 2 with a JSON error', () => {
    const file = path.join(files.dir, 'p.jsonl');
    writeFileSync(file, [pairLine('The dog barked.', 'Barked dog the.', { linguistics_term: 'order' }), pairLine('A cat.', 'A cat.')].join('\n'));
    const run = cli(['eval', 'pairs', '--model', 'nnlm-mini', '--file', file]);
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(result), ['model', 'method', 'pairs', 'accuracy', 'ties', 'byTerm']);
    assert.equal(result['pairs'], 2);
    assert.equal(result['ties'], 1);
    assert.deepEqual(Object.keys(result['byTerm'] as object), ['order', 'p']);
    const l2r = cli(['eval', 'pairs', '--model', 'bert-mini', '--pll', 'within-word-l2r', '--file', file]);
    assert.equal(l2r.status, 0, l2r.stderr);
    assert.equal((JSON.parse(l2r.stdout) as Record<string, unknown>)['method'], 'pseudo-log-likelihood-within-word-l2r');
    const badPll = cli(['eval', 'pairs', '--model', 'bert-mini', '--pll', 'l2r', '--file', file]);
    assert.equal(badPll.status, 2);
    assert.match(badPll.stderr, /"code":"BAD_INPUT".*Unknown pseudo-log-likelihood \\"l2r\\"/);

    const unknown = cli(['eval', 'scores', '--file', file]);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /"code":"BAD_INPUT".*eval pairs\|cloze\|perplexity\|tags/);
    const cloze = path.join(files.dir, 'c.tsv');
    writeFileSync(cloze, 'a\tThe [MASK] barked.\nb\tno mask\n');
    const bad = cli(['eval', 'cloze', '--model', 'bert-mini', '--file', cloze]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /c\.tsv:2: the sentence has 0 \[MASK\] markers/);
  });

  test('eval senses prints accuracy, by part of speech and the misses; --no-pos-filter reaches sense; a bad key is exit 2', () => {
    const file = path.join(files.dir, 's.tsv');
    writeFileSync(file, 'giraffe\tgiraffe%1:05:00::\tA giraffe ate leaves.\nriver\tbank%1:17:01::\tWe sat by the river.\n');
    for (const extra of [[], ['--no-pos-filter']]) {
      const run = cli(['eval', 'senses', '--file', file, ...extra]);
      assert.equal(run.status, 0, run.stderr);
      const result = JSON.parse(run.stdout) as Record<string, unknown>;
      assert.deepEqual(Object.keys(result).filter((k) => k !== 'tagger'), ['models', 'missingSenseVectors', 'items', 'accuracy', 'byPos', 'goldNotCandidate', 'misses']);
      assert.equal(result['accuracy'], 1 / 2);
      assert.deepEqual(result['byPos'], { n: { items: 2, accuracy: 1 / 2 } });
      assert.equal(result['goldNotCandidate'], 1);
    }
    writeFileSync(file, 'bank\tbank-1\tA bank.\n');
    const bad = cli(['eval', 'senses', '--file', file]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /s\.tsv:1: \\"bank-1\\" is not a WordNet sense key/);
  });
});
