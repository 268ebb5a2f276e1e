/**
 * The tagger inside the hover's requests (issue 14): an ELMo-head tagger reads the ELMo run that `sense` and `embed`
 * already make (counted session runs), `tag` stops between windows when cancelled, and senses are filtered by the
 * tagged part of speech (answers known by construction: taggers that always say NOUN, or VERB, or are unsure).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { embed } from '../../src/engine/tasks/embed/embed';
import { Engine, modelDirectories } from '../../src/engine/engine';
import { cancelled } from '../../src/engine/errors';
import { ModelStore } from '../../src/engine/modelStore';
import type { RequestContext } from '../../src/engine/runtime/context';
import { posFilter, POS_FILTER_THRESHOLD, wordnetPosOf } from '../../src/engine/senses/posFilter';
import { sense } from '../../src/engine/senses/sense';
import { defaultSenseLocations } from '../../src/engine/senses/service';
import { tag } from '../../src/engine/tasks/tag/tag';
import { lensError } from './helpers/lensError';
import { countingServices } from './helpers/countingServices';
import { DIST, tempDir, writeElmoFolder } from './helpers/modelFolders';
import { suiteEngine } from './helpers/suiteEngine';
import { always, writeElmoHead } from './helpers/taggerModels';

const workerPath = path.join(DIST, 'worker.js');


/** A request context whose checkpoint throws CANCELLED from its `cancelAt`-th call on. */
function context(cancelAt = Infinity): RequestContext & { checkpoints: number } {
  const controller = new AbortController();
  const ctx = {
    signal: controller.signal,
    checkpoints: 0,
    async checkpoint() {
      ctx.checkpoints++;
      if (ctx.checkpoints >= cancelAt) throw cancelled();
    },
    progress() {},
  };
  return ctx;
}

describe('the ELMo head reuses the ELMo run (worker side, counted session runs)', () => {
  const models = tempDir();
  let store: ModelStore;
  const model = (id: string) => store.get(id);
  const resources = defaultSenseLocations(workerPath);
  before(() => {
    writeElmoFolder(models.dir, 'elmo-test');
    writeElmoFolder(models.dir, 'elmo-other');
    writeElmoHead(models.dir, 'pos-head', 'elmo-test');
    writeElmoHead(models.dir, 'pos-head-other', 'elmo-other');
    store = new ModelStore([{ path: models.dir, source: 'user' }]);
  });
  after(() => models.remove());

  test('sense: one ELMo run serves the sense vectors and the tag; the head runs once', async () => {
    const { services, runs } = countingServices();
    const text = 'We sat on the river bank.';
    const result = await sense(
      { text, word: 'bank', occurrence: 1, details: false, elmo: await model('elmo-test'), statics: [], resources, posFilter: true, tagger: await model('pos-head'), taggerBase: await model('elmo-test') },
      context(),
      services,
    );
    assert.deepEqual(runs, { 'elmo-test': 1, 'pos-head': 1 });
    assert.deepEqual(result.tag && { ...result.tag, probability: undefined }, { model: 'pos-head', tag: 'NOUN', probability: undefined, wordnetPos: 'n', filtered: true, sharedRun: true });
  });

  test('sense: a head on another ELMo runs that ELMo too (not shared)', async () => {
    const { services, runs } = countingServices();
    const result = await sense(
      { text: 'We sat on the river bank.', word: 'bank', occurrence: 1, details: false, elmo: await model('elmo-test'), statics: [], resources, posFilter: true, tagger: await model('pos-head-other'), taggerBase: await model('elmo-other') },
      context(),
      services,
    );
    assert.deepEqual(runs, { 'elmo-test': 1, 'elmo-other': 1, 'pos-head-other': 1 });
    assert.equal(result.tag?.sharedRun, false);
  });

  test('embed (the hover for words WordNet lacks): the tag from the same ELMo run', async () => {
    const { services, runs } = countingServices();
    const result = await embed(
      { model: await model('elmo-test'), text: 'We sat on the bank.', word: 'the', occurrence: 1, tagger: await model('pos-head'), taggerBase: await model('elmo-test') },
      context(),
      services,
    );
    assert.deepEqual(runs, { 'elmo-test': 1, 'pos-head': 1 });
    assert.deepEqual([result.tag?.tag, result.tag?.sharedRun, result.layers.length], ['DET', true, 3]);
  });

  test('tag: a cancel stops it between windows (no run of the next window)', async () => {
    const { services, runs } = countingServices();
    const text = Array.from({ length: 300 }, () => 'bank').join(' '); // three windows of up to 128 words
    const ctx = context(3); // checkpoints: before the ELMo run, before the head run, before window 2
    await assert.rejects(tag({ model: await model('pos-head'), base: await model('elmo-test'), text, topK: 1 }, ctx, services), lensError('CANCELLED'));
    assert.deepEqual(runs, { 'elmo-test': 1, 'pos-head': 1 });
  });
});

describe('POS filter (pure)', () => {
  const candidates = [{ pos: 'n' }, { pos: 'n' }, { pos: 'v' }, { pos: 's' }, { pos: 'a' }];

  test('universal and Penn tags to WordNet parts of speech', () => {
    assert.deepEqual(wordnetPosOf('NOUN'), ['n']);
    assert.deepEqual(wordnetPosOf('VERB'), ['v']);
    assert.deepEqual(wordnetPosOf('ADJ'), ['a', 's']);
    assert.deepEqual(wordnetPosOf('ADV'), ['r']);
    assert.deepEqual(wordnetPosOf('VBZ'), ['v']);
    assert.equal(wordnetPosOf('DET'), undefined);
    assert.equal(wordnetPosOf('B-PER'), undefined);
  });

  test('keeps the tagged part of speech when sure; all of them when unsure, disabled, untaggable or empty', () => {
    const sure = (tag: string) => ({ tag, probability: POS_FILTER_THRESHOLD });
    assert.deepEqual(posFilter(candidates, sure('VERB')), { keep: [false, false, true, false, false], filtered: true, wordnetPos: 'v' });
    assert.deepEqual(posFilter(candidates, sure('ADJ')).keep, [false, false, false, true, true], 'satellites are adjectives');
    const all = [true, true, true, true, true];
    assert.deepEqual(posFilter(candidates, { tag: 'VERB', probability: 0.89 }), { keep: all, filtered: false, wordnetPos: 'v', reason: 'unsure' });
    assert.deepEqual(posFilter(candidates, { tag: 'VERB', probability: 0.5 }, { threshold: 0.4 }).filtered, true);
    assert.deepEqual(posFilter(candidates, sure('ADV')), { keep: all, filtered: false, wordnetPos: 'r', reason: 'no-senses-of-that-pos' });
    assert.deepEqual(posFilter(candidates, sure('DET')), { keep: all, filtered: false, reason: 'not-a-wordnet-pos' });
    assert.deepEqual(posFilter(candidates, sure('NOUN'), { enabled: false }).reason, 'disabled');
    assert.deepEqual(posFilter(candidates, undefined), { keep: all, filtered: false });
  });
});

describe('senses filtered by the tagged part of speech (Engine, WordNet, real worker)', () => {
  const models = tempDir();
  const plain = tempDir();
  const stale = tempDir();
  let engine: Engine;
  const text = 'In April we plant the seeds in the garden soil.';
  before(() => {
    writeElmoFolder(models.dir, 'elmo-test');
    writeElmoHead(models.dir, 'pos-noun', 'elmo-test', always('NOUN'));
    writeElmoHead(models.dir, 'pos-verb', 'elmo-test', always('VERB'));
    writeElmoHead(models.dir, 'pos-unsure', 'elmo-test', always('VERB', 1));
    writeElmoHead(models.dir, 'pos-elmo-mini', 'elmo-test');
    writeElmoFolder(plain.dir, 'elmo-test');
    writeElmoFolder(stale.dir, 'elmo-test');
    writeElmoHead(stale.dir, 'pos-elmo-mini', 'elmo-test', always('NOUN'), { base_fingerprint: '1-0000000000000000' });
  });
  suiteEngine(models.dir, 'lm-lens-tag-senses-', (e) => (engine = e));
  after(() => {
    models.remove();
    plain.remove();
    stale.remove();
  });

  test('the tag decides the part of speech of the chosen sense: noun vs verb', async () => {
    const asNoun = await engine.sense({ text, word: 'plant', tagger: 'pos-noun' });
    const asVerb = await engine.sense({ text, word: 'plant', tagger: 'pos-verb' });
    assert.equal(asNoun.pos, 'n');
    assert.equal(asVerb.pos, 'v');
    assert.notEqual(asNoun.senseKey, asVerb.senseKey);
    assert.deepEqual([asNoun.tag?.tag, asNoun.tag?.filtered, asVerb.tag?.tag, asVerb.tag?.filtered], ['NOUN', true, 'VERB', true]);
    // only the tagged part of speech's senses are scored: the others get 0, and the rest still sum to 1
    assert.ok(asVerb.candidates.filter((c) => c.pos !== 'v').every((c) => c.score === 0));
    const total = asVerb.candidates.reduce((s, c) => s + c.score, 0);
    assert.ok(Math.abs(total - 1) < 1e-2, `probabilities sum to ${total}`);
  });

  test('unsure, disabled, or no senses of that part of speech: every sense is scored, as without a tagger', async () => {
    const without = new Engine({ modelDirectories: modelDirectories(undefined, [plain.dir]), workerPath });
    try {
      const none = await without.sense({ text, word: 'plant' });
      assert.equal(none.tag, undefined, 'no tagger installed: no tag, the senses as before');
      const unsure = await engine.sense({ text, word: 'plant', tagger: 'pos-unsure' });
      assert.deepEqual([unsure.tag?.filtered, unsure.tag?.reason], [false, 'unsure']);
      assert.ok(unsure.tag!.probability < POS_FILTER_THRESHOLD);
      assert.equal(unsure.senseKey, none.senseKey);
      assert.deepEqual(unsure.candidates.map((c) => c.score), none.candidates.map((c) => c.score));
      const disabled = await engine.sense({ text, word: 'plant', tagger: 'pos-noun', posFilter: false });
      assert.deepEqual([disabled.tag?.tag, disabled.tag?.filtered, disabled.tag?.reason, disabled.senseKey], ['NOUN', false, 'disabled', none.senseKey]);
      const lowered = await engine.sense({ text, word: 'plant', tagger: 'pos-unsure', posThreshold: 0.1 });
      assert.deepEqual([lowered.tag?.filtered, lowered.pos], [true, 'v']);
    } finally {
      await without.dispose();
    }
    const river = await engine.sense({ text: 'We sat by the river.', word: 'river', tagger: 'pos-verb' });
    assert.deepEqual([river.tag?.reason, river.pos], ['no-senses-of-that-pos', 'n']);
    await assert.rejects(engine.sense({ text, word: 'plant', posThreshold: 2 }), lensError('BAD_INPUT', /posThreshold/));
    await assert.rejects(engine.sense({ text, word: 'plant', tagger: 'elmo-test' }), lensError('BAD_INPUT', /tag needs a tagger/));
  });

  test('a default tagger trained on another file of its ELMo is left out of the hover; named, it is MODEL_CORRUPT', async () => {
    const other = new Engine({ modelDirectories: modelDirectories(undefined, [stale.dir]), workerPath });
    try {
      const none = await other.sense({ text, word: 'plant' });
      assert.equal(none.tag, undefined, 'the senses as without a tagger');
      const embedded = await other.embed({ text, word: 'plant', tag: true });
      assert.equal(embedded.tag, undefined);
      assert.equal(embedded.layers.length, 3, 'the vectors as they were');
      await assert.rejects(other.sense({ text, word: 'plant', tagger: 'pos-elmo-mini' }), lensError('MODEL_CORRUPT', /trained on another "elmo-test"/));
    } finally {
      await other.dispose();
    }
  });

  test('the default tagger (the hover): pos-elmo-mini, from the ELMo run the sense already made', async () => {
    const result = await engine.sense({ text: 'We sat on the river bank.', word: 'bank', details: true });
    const d = result.details!;
    assert.deepEqual(d.offsets.map(([start, end]) => 'We sat on the river bank.'.slice(start, end)), d.tokens, 'the details point into the text');
    assert.deepEqual([result.tag?.model, result.tag?.tag, result.tag?.sharedRun], ['pos-elmo-mini', 'NOUN', true]);
    const embedded = await engine.embed({ text: 'We sat on the river bank.', word: 'the', tag: true });
    assert.deepEqual([embedded.tag?.model, embedded.tag?.tag, embedded.tag?.sharedRun], ['pos-elmo-mini', 'DET', true]);
    assert.equal((await engine.embed({ text: 'We sat on the river bank.', word: 'the' })).tag, undefined, 'embed tags only when asked');
  });
});
