/**
 * Taggers (issue 14): the model store's `tagger` kind for both forms, and `Engine.tag` end to end on the production
 * worker with real ONNX Runtime sessions on hand-built taggers whose answers are known by construction
 * (helpers/taggerModels.ts).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Engine, modelDirectories } from '../../src/engine/engine';
import { ModelStore } from '../../src/engine/modelStore';
import { modelFingerprint } from '../../src/engine/models/fingerprint';
import { defaultTagger } from '../../src/engine/tasks/tag/taggers';
import { pieceWindowAround, pieceWindows, softmaxAt, topTags } from '../../src/engine/tasks/tag/run';
import { lensError } from './helpers/lensError';
import { DIST, SHIPPED_MODELS, tempDir, writeElmoFolder, writeModelFolder } from './helpers/modelFolders';
import { writeLeftNeighbourBert } from './helpers/lmModels';
import { suiteEngine } from './helpers/suiteEngine';
import {
  CLASSIFIER_LABELS,
  elmoHeadConfig,
  elmoHeadModel,
  firstLetterRow,
  pieceLogits,
  pieceTableModel,
  SURE_P,
  tokenClassifierConfig,
  UNIVERSAL,
  writeElmoHead,
  writeTokenClassifier,
} from './helpers/taggerModels';

const workerPath = path.join(DIST, 'worker.js');
const close = (a: number, b: number, eps = 1e-4): boolean => Math.abs(a - b) < eps;

describe('model store: the tagger kind', () => {
  const models = tempDir();
  let store: ModelStore;
  before(() => {
    writeElmoFolder(models.dir, 'elmo-test');
    writeElmoHead(models.dir, 'pos-head', 'elmo-test');
    writeTokenClassifier(models.dir, 'pos-pieces');
    writeTokenClassifier(models.dir, 'ner-pieces', tokenClassifierConfig({ lm_lens: undefined, model_type: 'distilbert', architectures: ['DistilBertForTokenClassification'] }, ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC']));
    writeLeftNeighbourBert(models.dir, 'bert-test');
    // broken taggers
    writeModelFolder(models.dir, 'head-duplicate-labels', {
      config: elmoHeadConfig('elmo-test', { labels: ['NOUN', 'NOUN', ...UNIVERSAL.slice(2)] }),
      onnx: elmoHeadModel(firstLetterRow),
    });
    writeModelFolder(models.dir, 'head-no-labels', { config: elmoHeadConfig('elmo-test', { labels: [] }), onnx: elmoHeadModel(firstLetterRow) });
    writeModelFolder(models.dir, 'head-eleven-labels', {
      config: elmoHeadConfig('elmo-test', { labels: UNIVERSAL.slice(0, 11) }),
      onnx: elmoHeadModel(firstLetterRow),
    });
    writeModelFolder(models.dir, 'head-no-base', { config: elmoHeadConfig('elmo-test', { base: undefined }), onnx: elmoHeadModel(firstLetterRow) });
    writeModelFolder(models.dir, 'head-numeric-fingerprint', {
      config: elmoHeadConfig('elmo-test', { base_fingerprint: 4713211 }),
      onnx: elmoHeadModel(firstLetterRow),
    });
    writeElmoHead(models.dir, 'head-fingerprinted', 'elmo-test', firstLetterRow, { base_fingerprint: '99-0123456789abcdef' });
    writeTokenClassifier(models.dir, 'pieces-gap', tokenClassifierConfig({ id2label: { 0: 'NOUN', 1: 'VERB', 2: 'DET', 3: '.', 7: 'X' } }));
    writeTokenClassifier(models.dir, 'pieces-no-id2label', tokenClassifierConfig({ id2label: undefined }));
    writeTokenClassifier(models.dir, 'pieces-no-logits', tokenClassifierConfig(), pieceTableModel({ output: 'hidden' }));
    writeTokenClassifier(models.dir, 'pieces-wrong-width', tokenClassifierConfig(), pieceTableModel({ declaredLabels: 9 }));
    writeTokenClassifier(models.dir, 'pieces-bad-word-piece', tokenClassifierConfig({ lm_lens: { word_piece: 'middle' } }));
    writeModelFolder(models.dir, 'pieces-no-tokenizer', { config: tokenClassifierConfig(), onnx: pieceTableModel() });
    store = new ModelStore([{ path: models.dir, source: 'user' }]);
  });
  after(() => models.remove());

  test('an ELMo head and token classifiers (POS and NER, any model_type) are taggers, with their labels', async () => {
    const head = await store.get('pos-head');
    assert.equal(head.kind, 'tagger');
    assert.deepEqual(head.tagger, {
      form: 'elmo-head',
      labels: UNIVERSAL,
      base: 'elmo-test',
      tagSet: 'universal',
      scalarMix: { weights: [0.2, 0.3, 0.5], gamma: 1.5 },
    });
    assert.equal((await store.get('head-fingerprinted')).tagger?.baseFingerprint, '99-0123456789abcdef');
    const pieces = await store.get('pos-pieces');
    assert.equal(pieces.kind, 'tagger', 'a BertForTokenClassification export is not listed as a masked LM');
    assert.deepEqual(pieces.tagger, { form: 'token-classifier', labels: CLASSIFIER_LABELS, wordPiece: 'first', tagSet: 'universal' });
    const ner = await store.get('ner-pieces');
    assert.deepEqual([ner.kind, ner.tagger?.labels, ner.tagger?.tagSet], ['tagger', ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC'], undefined]);
    assert.equal((await store.get('bert-test')).kind, 'masked-lm');
  });

  test('broken tagger folders are MODEL_CORRUPT, saying what is wrong', async () => {
    const cases: [string, RegExp][] = [
      ['head-duplicate-labels', /the tag "NOUN" is listed twice/],
      ['head-no-labels', /tagger\.labels must list the tags in logit order/],
      ['head-eleven-labels', /"logits" has 12 tags per position but config\.json names 11/],
      ['head-no-base', /tagger\.base must name the ELMo/],
      ['head-numeric-fingerprint', /tagger\.base_fingerprint \(the base's file it was trained on\) must be a non-empty string/],
      ['pieces-gap', /id2label must number the tags 0 to 4; "7" is not one of them/],
      ['pieces-no-id2label', /a token classifier needs "id2label"/],
      ['pieces-no-logits', /a tagger must output "logits" \[batch, sequence, tags\]; its outputs: hidden/],
      ['pieces-wrong-width', /"logits" has 9 tags per position but config\.json names 5/],
      ['pieces-bad-word-piece', /lm_lens\.word_piece must be "first" or "last"/],
      ['pieces-no-tokenizer', /tokenizer\.json is missing/],
    ];
    for (const [id, message] of cases) await assert.rejects(store.get(id), lensError('MODEL_CORRUPT', message), id);
  });

  test('the default tagger: the shipped ones in order, then any part-of-speech tagger, then (for tag) any tagger', () => {
    const tagger = (id: string, source: 'shipped' | 'user', tagSet?: string) =>
      ({ id, source, kind: 'tagger' as const, modelType: 'x', path: '', inputs: [], outputs: [], tagger: { form: 'token-classifier' as const, labels: tagSet ? ['NOUN', 'VERB'] : ['O', 'B-PER'], ...(tagSet ? { tagSet } : {}) } });
    const ner = tagger('ner', 'user');
    const userPos = tagger('my-pos', 'user', 'universal');
    assert.equal(defaultTagger([ner, userPos, tagger('pos-gpt2-mini', 'shipped', 'universal'), tagger('pos-bert-mini', 'shipped', 'universal')])?.id, 'pos-bert-mini');
    assert.equal(defaultTagger([ner, userPos])?.id, 'my-pos');
    assert.equal(defaultTagger([ner])?.id, 'ner');
    assert.equal(defaultTagger([ner], true), undefined);
  });
});

describe('tag decoding helpers', () => {
  test('softmax rows sum to 1; top tags best first', () => {
    const p = softmaxAt(Float32Array.from([9, 1, 2, 3]), 1, 3);
    assert.ok(close(p.reduce((a, b) => a + b, 0), 1, 1e-6));
    assert.deepEqual(topTags(['A', 'B', 'C'], p, 2).map((t) => t.tag), ['C', 'B']);
  });

  test('windows of words whose pieces fit', () => {
    assert.deepEqual(pieceWindows([2, 2, 2, 5, 1], 5), [[0, 2], [2, 3], [3, 4], [4, 5]]);
    assert.deepEqual(pieceWindows([9], 4), [[0, 1]]);
    assert.deepEqual(pieceWindowAround([1, 1, 3, 1, 1], 2, 5), [0, 3], 'ties grow to the left');
    assert.deepEqual(pieceWindowAround([1, 4, 3, 1, 1], 2, 5), [2, 5]);
  });
});

describe('Engine.tag (real ONNX Runtime in the worker)', () => {
  const models = tempDir();
  const empty = tempDir();
  let engine: Engine;
  before(() => {
    writeElmoFolder(models.dir, 'elmo-test');
    writeElmoHead(models.dir, 'pos-elmo-mini', 'elmo-test');
    writeElmoHead(models.dir, 'head-without-base', 'elmo-gone');
    writeElmoHead(models.dir, 'head-on-another-elmo', 'elmo-test', firstLetterRow, { base_fingerprint: '4713211-cdaffcd05d381fbb' });
    writeTokenClassifier(models.dir, 'pos-bert-mini');
    writeTokenClassifier(models.dir, 'pos-last-piece', tokenClassifierConfig({ lm_lens: { tag_set: 'universal', word_piece: 'last' } }));
    // six labels in config.json, five logits per piece in fact (the graph declares the width as a symbol)
    writeTokenClassifier(models.dir, 'pieces-lying-width', tokenClassifierConfig({}, [...CLASSIFIER_LABELS, 'Y']), pieceTableModel({ declaredLabels: 'labels' }));
    writeElmoFolder(empty.dir, 'elmo-only');
  });
  suiteEngine(models.dir, 'lm-lens-tag-', (e) => (engine = e));
  after(() => {
    models.remove();
    empty.remove();
  });

  test('ELMo head: the words as the hover splits them, decoded labels, probabilities summing to 1', async () => {
    const text = 'We sat on the bank.';
    const result = await engine.tag({ text, topK: 12 });
    assert.equal(result.model, 'pos-elmo-mini', 'the default: the first of DEFAULT_TAGGERS installed');
    assert.deepEqual([result.form, result.tagSet, result.runs], ['elmo-head', 'universal', 2]);
    assert.deepEqual(result.words.map((w) => [w.word, w.tag]), [['We', 'PRON'], ['sat', 'VERB'], ['on', 'ADP'], ['the', 'DET'], ['bank', 'NOUN'], ['.', '.']]);
    for (const w of result.words) {
      assert.equal(text.slice(w.start, w.end), w.word);
      assert.equal(w.top.length, 12);
      assert.ok(close(w.top.reduce((s, t) => s + t.p, 0), 1), `${w.word}: ${JSON.stringify(w.top)}`);
      assert.ok(close(w.probability, SURE_P), `${w.word} ${w.probability}`);
      assert.equal(w.top[0]!.tag, w.tag);
    }
    const unsure = await engine.tag({ text: 'quaint', topK: 2 });
    assert.equal(unsure.words[0]!.tag, 'ADJ');
    assert.ok(close(unsure.words[0]!.probability, Math.E / (Math.E + 11)), String(unsure.words[0]!.probability));
    assert.equal(unsure.words[0]!.top.length, 2);
  });

  test('ELMo head: a long text is tagged window by window (128 words each)', async () => {
    const text = Array.from({ length: 300 }, (_, i) => (i % 2 ? 'bank' : 'the')).join(' ');
    const result = await engine.tag({ text, model: 'pos-elmo-mini' });
    assert.equal(result.words.length, 300);
    assert.equal(result.runs, 6);
    assert.ok(result.words.every((w, i) => w.tag === (i % 2 ? 'NOUN' : 'DET')));
  });

  test('token classifier: the first piece tags the word, or the last one when the config says so', async () => {
    const text = 'The cats barked at a dog.';
    const first = await engine.tag({ text, model: 'pos-bert-mini', topK: 5 });
    assert.deepEqual([first.form, first.runs], ['token-classifier', 1]);
    assert.deepEqual(first.words.map((w) => [w.word, w.tag]), [['The', 'DET'], ['cats', 'NOUN'], ['barked', 'VERB'], ['at', 'X'], ['a', 'DET'], ['dog', 'NOUN'], ['.', '.']]);
    const softmax = (logits: number[]) => logits.map((z) => Math.exp(z) / logits.reduce((s, y) => s + Math.exp(y), 0));
    const cats = first.words[1]!;
    assert.ok(close(cats.probability, Math.max(...softmax(pieceLogits('cat')))));
    assert.ok(close(cats.top.reduce((s, t) => s + t.p, 0), 1));
    const last = await engine.tag({ text, model: 'pos-last-piece' });
    assert.deepEqual(last.words[1]!.tag, 'VERB', '"cats" = "cat" "##s": the last piece is ##s');
    assert.deepEqual(last.words[0]!.tag, 'DET');
  });

  test('errors: not a tagger, a head without its ELMo, no tagger installed, bad requests', async () => {
    await assert.rejects(engine.tag({ text: 'a bank', model: 'elmo-test' }), lensError('BAD_INPUT', /"elmo-test" is a bilm model; tag needs a tagger/));
    await assert.rejects(engine.tag({ text: 'a bank', model: 'head-without-base' }), lensError('MODEL_NOT_FOUND', /reads the ELMo "elmo-gone"/));
    await assert.rejects(engine.tag({ text: 'a bank', model: 'nope' }), lensError('MODEL_NOT_FOUND'));
    await assert.rejects(engine.tag({ text: '   ' }), lensError('BAD_INPUT', /empty/));
    await assert.rejects(engine.tag({ text: 'a bank', topK: 0 }), lensError('BAD_INPUT', /topK/));
    const bare = new Engine({ modelDirectories: modelDirectories(undefined, [empty.dir]), workerPath });
    try {
      await assert.rejects(bare.tag({ text: 'a bank' }), lensError('MODEL_NOT_FOUND', /No tagger is installed\. LM Lens ships pos-elmo-mini, pos-bert-mini, pos-gpt2-mini once they are trained .*token-classification ONNX export/));
    } finally {
      await bare.dispose();
    }
  });

  test('an ELMo head trained on another file of its base is refused; on the same file it tags', async () => {
    await assert.rejects(
      engine.tag({ text: 'a bank', model: 'head-on-another-elmo' }),
      lensError('MODEL_CORRUPT', /"head-on-another-elmo" was trained on another "elmo-test" \(its config\.json names the file 4713211-cdaffcd05d381fbb; the one installed is \d+-[0-9a-f]{16}\).*Retrain the tagger/),
    );
    const fingerprint = await modelFingerprint(await new ModelStore([{ path: models.dir, source: 'user' }]).get('elmo-test'));
    writeElmoHead(models.dir, 'head-on-this-elmo', 'elmo-test', firstLetterRow, { base_fingerprint: fingerprint });
    engine.refreshModels();
    const result = await engine.tag({ text: 'a bank', model: 'head-on-this-elmo' });
    assert.deepEqual(result.words.map((w) => w.tag), ['DET', 'NOUN']);
  });

  test('given words are tagged as given (not re-split), at their offsets in the words joined by spaces', async () => {
    const words = ['U.S.', 'seeds', "don't", 'quaint'];
    const result = await engine.tag({ words, model: 'pos-elmo-mini' });
    assert.deepEqual(result.words.map((w) => [w.word, w.tag, w.start, w.end]), [
      ['U.S.', 'NOUN', 0, 4],
      ['seeds', 'VERB', 5, 10],
      ["don't", 'NOUN', 11, 16],
      ['quaint', 'ADJ', 17, 23],
    ]);
    assert.equal((await engine.tag({ text: words.join(' '), model: 'pos-elmo-mini' })).words.length > 4, true, 'the splitter cuts them into more words');
    const classified = await engine.tag({ words: ['The', 'cats', 'barked'], model: 'pos-bert-mini' });
    assert.deepEqual(classified.words.map((w) => w.tag), ['DET', 'NOUN', 'VERB']);
    await assert.rejects(engine.tag({ words: [] }), lensError('BAD_INPUT', /at least one word/));
    await assert.rejects(engine.tag({ words: ['New York'] }), lensError('BAD_INPUT', /Word 1 .* holds whitespace/));
    await assert.rejects(engine.tag({ words: ['a', ''] }), lensError('BAD_INPUT', /Word 2 .* is empty/));
    await assert.rejects(engine.tag({ words: ['a'], text: 'a' }), lensError('BAD_INPUT', /either the text or the words/));
  });

  test('eval tags: accuracy, by tag and confusions from the first-letter tagger, whose answers are known', async () => {
    // the tagger: t/a DET, w/y/i PRON, o ADP, s VERB, "." ".", q ADJ, else NOUN (helpers/taggerModels.ts)
    const file = path.join(models.dir, 'gold.tsv');
    const gold = [
      ['We', 'PRON'], ['sat', 'VERB'], ['on', 'ADP'], ['the', 'DET'], ['bank', 'NOUN'], ['.', '.'],
      [''],
      ['Some', 'DET'], ['dogs', 'NOUN'], ['swim', 'VERB'], ['in', 'ADP'], ['rivers', 'NOUN'], ['.', 'PUNCT'],
    ];
    writeFileSync(file, gold.map((row) => row.join('\t')).join('\n'));
    const progress: number[] = [];
    const result = await engine.evalTags({ file, model: 'pos-elmo-mini' }, undefined, (p) => progress.push(p.done));
    // wrong: Some (VERB for DET), in (PRON for ADP), rivers (NOUN: right), "." (. for PUNCT)
    assert.deepEqual(result, {
      model: 'pos-elmo-mini',
      sentences: 2,
      words: 12,
      accuracy: 9 / 12,
      byTag: {
        NOUN: { words: 3, accuracy: 1 },
        VERB: { words: 2, accuracy: 1 },
        ADP: { words: 2, accuracy: 0.5 },
        DET: { words: 2, accuracy: 0.5 },
        PRON: { words: 1, accuracy: 1 },
        '.': { words: 1, accuracy: 1 },
        PUNCT: { words: 1, accuracy: 0 },
      },
      confusions: [
        { gold: 'ADP', predicted: 'PRON', count: 1 },
        { gold: 'DET', predicted: 'VERB', count: 1 },
        { gold: 'PUNCT', predicted: '.', count: 1 },
      ],
      tagsNotInModel: ['PUNCT'],
    });
    assert.deepEqual(progress, [1, 2]);
    const classified = await engine.evalTags({ file, model: 'pos-bert-mini' });
    assert.equal(classified.words, 12);
    await assert.rejects(engine.evalTags({ file, model: 'elmo-test' }), lensError('BAD_INPUT', /tag needs a tagger/));
    const bad = path.join(models.dir, 'bad.tsv');
    writeFileSync(bad, 'The\tDET\ndog\n');
    await assert.rejects(engine.evalTags({ file: bad }), lensError('BAD_INPUT', /bad\.tsv:2: expected "word<TAB>tag"/));
    const controller = new AbortController();
    const long = path.join(models.dir, 'long.tsv');
    writeFileSync(long, Array.from({ length: 200 }, () => 'the\tDET\nbank\tNOUN\n').join('\n'));
    const run = engine.evalTags({ file: long }, controller.signal, () => controller.abort());
    await assert.rejects(run, lensError('CANCELLED'));
  });

  test('lm-lens eval tags prints the scoreboard', () => {
    const file = path.join(models.dir, 'cli.tsv');
    writeFileSync(file, 'the\tDET\nbank\tNOUN\n\nsat\tNOUN\n');
    const run = spawnSync(process.execPath, [path.join(DIST, 'cli.js'), '--models-dir', models.dir, 'eval', 'tags', '--model', 'pos-elmo-mini', '--file', file], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout) as { sentences: number; words: number; accuracy: number; confusions: unknown[] };
    assert.deepEqual([result.sentences, result.words, result.accuracy], [2, 3, 2 / 3]);
    assert.deepEqual(result.confusions, [{ gold: 'NOUN', predicted: 'VERB', count: 1 }]);
  });

  test('a graph whose logits do not match its labels at run time is MODEL_CORRUPT', async () => {
    await assert.rejects(engine.tag({ text: 'the dog', model: 'pieces-lying-width' }), lensError('MODEL_CORRUPT', /"logits" has 5 tags per position but config\.json names 6/));
  });

  test('an aborted request is CANCELLED', async () => {
    const controller = new AbortController();
    const text = Array.from({ length: 2000 }, () => 'bank').join(' ');
    const pending = engine.tag({ text }, controller.signal);
    controller.abort();
    await assert.rejects(pending, lensError('CANCELLED'));
    const after = await engine.tag({ text: 'the bank' });
    assert.equal(after.words.length, 2, 'the engine still answers after a cancel');
  });
});

describe('the shipped tagger (pos-elmo-mini over elmo-mini), when it is there', () => {
  const shipped = path.join(SHIPPED_MODELS, 'pos-elmo-mini', 'config.json');
  let engine: Engine;
  before(() => {
    engine = new Engine({ modelDirectories: modelDirectories(SHIPPED_MODELS), workerPath });
  });
  after(() => engine.dispose());

  test('it names the fingerprint of the shipped elmo-mini (retrain it when elmo-mini changes)', { skip: !existsSync(shipped) && 'no pos-elmo-mini' }, async () => {
    const config = JSON.parse(readFileSync(shipped, 'utf8')) as { tagger: { base: string; base_fingerprint?: string } };
    assert.equal(config.tagger.base, 'elmo-mini');
    const elmo = await new ModelStore([{ path: SHIPPED_MODELS, source: 'shipped' }]).get('elmo-mini');
    assert.equal(config.tagger.base_fingerprint, await modelFingerprint(elmo), 'pos-elmo-mini was trained on another elmo-mini: run training/pos.py again');
  });

  test('"bank" is a verb in "You can bank on it." and a noun in "We sat on the river bank."', { skip: !existsSync(shipped) && 'no pos-elmo-mini' }, async () => {
    const result = await engine.tag({ text: 'You can bank on it. We sat on the river bank.' });
    assert.equal(result.model, 'pos-elmo-mini');
    const banks = result.words.filter((w) => w.word === 'bank');
    assert.deepEqual(banks.map((w) => w.tag), ['VERB', 'NOUN']);
    for (const w of result.words) {
      assert.ok(close(w.top.reduce((s, t) => s + t.p, 0), 1, 1e-3) || w.top.length < 12, 'top tags are a distribution');
      assert.ok(w.probability > 0 && w.probability <= 1);
    }
    assert.deepEqual(result.words.filter((w) => ['You', 'We', 'it'].includes(w.word)).map((w) => w.tag), ['PRON', 'PRON', 'PRON']);
  });
});
