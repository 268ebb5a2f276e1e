/**
 * Which contextual models a sense request runs and reports: only those the scorer listens to (the shipped scorer may
 * leave BERT or ELMo out: training/senses/build.mjs keeps the signals that help on its development set), and a
 * downloaded ELMo or BERT with its own sense vectors is scored with every signal. On the shipped models, with
 * counted session runs.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import type { ModelInfo } from '../../src/engine/api';
import { ModelStore } from '../../src/engine/modelStore';
import type { RequestContext } from '../../src/engine/runtime/context';
import { FEATURES } from '../../src/engine/senses/features';
import { parseScorerFile, usesSignal, type ScorerFile, type ScorerWeights } from '../../src/engine/senses/scorer';
import { sense, weightsFor } from '../../src/engine/senses/sense';
import { defaultSenseLocations } from '../../src/engine/senses/service';
import { storeFiles } from '../../src/engine/senses/store';
import { countingServices } from './helpers/countingServices';
import { DIST, SHIPPED_MODELS } from './helpers/modelFolders';

const weights = (named: Record<string, number>): ScorerWeights => ({ features: FEATURES, weights: FEATURES.map((f) => named[f] ?? 0) });
const priorLeskGlove = weights({ prior_rank: 0.5, prior_count: 0.2, lesk: 1, glove_bag: 6 });
const everySignal = weights({ prior_rank: 0.5, prior_count: 0.2, lesk: 1, glove_bag: 6, elmo_lstm2: 1, bert_last: 1 });


const context = (): RequestContext => ({ signal: new AbortController().signal, async checkpoint() {}, progress() {} });

describe('the scorer file and its signals', () => {
  test('parseScorerFile: the weights, the every-signal weights, the models they were chosen with', () => {
    const file = parseScorerFile({
      features: ['lesk', 'glove_bag'],
      weights: [1, 6],
      allSignals: { features: ['lesk', 'bert_last'], weights: [1, 2] },
      fitted: { elmo: 'elmo-mini', bert: 'bert-mini', glove: 'glove-100d' },
    })!;
    assert.equal(file.weights.weights[FEATURES.indexOf('glove_bag')], 6);
    assert.equal(file.allSignals!.weights[FEATURES.indexOf('bert_last')], 2);
    assert.deepEqual(file.models, { elmo: 'elmo-mini', bert: 'bert-mini' });
    const plain = parseScorerFile({ features: ['lesk'], weights: [1] })!;
    assert.deepEqual([plain.allSignals, plain.models], [undefined, {}]);
    assert.equal(parseScorerFile({ features: ['lesk'], weights: [1], allSignals: { features: 'x' } })!.allSignals, undefined);
    assert.equal(parseScorerFile({ weights: [1] }), undefined);
  });

  test('usesSignal: a signal with any nonzero weight', () => {
    assert.deepEqual(['prior', 'lesk', 'glove', 'elmo', 'bert'].map((s) => usesSignal(priorLeskGlove, s as never)), [true, true, true, false, false]);
    assert.deepEqual(['elmo', 'bert'].map((s) => usesSignal(everySignal, s as never)), [true, true]);
  });

  test('weightsFor: the request\'s own; the shipped ones with the models they were chosen with; every signal with another that has sense vectors', () => {
    const file: ScorerFile = { weights: priorLeskGlove, allSignals: everySignal, models: { elmo: 'elmo-mini', bert: 'bert-mini' } };
    const m = (id: string) => ({ id }) as ModelInfo;
    assert.equal(weightsFor(file, { elmo: m('elmo-mini'), bert: m('bert-mini') }), priorLeskGlove);
    assert.equal(weightsFor(file, { elmo: m('elmo-mini') }), priorLeskGlove);
    assert.equal(weightsFor(file, { elmo: m('elmo-mini'), bert: m('bert-base-uncased') }), everySignal);
    assert.equal(weightsFor(file, { elmo: m('elmo-user'), bert: m('bert-mini') }), everySignal);
    assert.equal(weightsFor(file, { bert: m('bert-base-uncased') }, priorLeskGlove), priorLeskGlove);
    assert.equal(weightsFor({ ...file, allSignals: undefined }, { bert: m('bert-base-uncased') }), priorLeskGlove);
  });
});

describe('sense runs the contextual models its scorer listens to (shipped models, counted runs)', () => {
  let store: ModelStore;
  const resources = defaultSenseLocations(path.join(DIST, 'worker.js'));
  const request = async (w: ScorerWeights) => ({
    text: 'She paid the bill at the bank before noon.',
    word: 'bank',
    occurrence: 1,
    details: false,
    elmo: await store.get('elmo-mini'),
    bert: await store.get('bert-mini'),
    glove: await store.get('glove-100d'),
    statics: [],
    resources,
    posFilter: false,
    weights: w,
  });
  before(() => {
    store = new ModelStore([{ path: SHIPPED_MODELS, source: 'shipped' }]);
  });

  test('a scorer without BERT or ELMo: BERT never runs, neither is reported or given as evidence', async () => {
    const { services, runs } = countingServices();
    const result = await sense(await request(priorLeskGlove), context(), services);
    assert.deepEqual(runs, { 'elmo-mini': 1 }); // the ELMo run is made anyway: the hover shows its layers
    assert.deepEqual(result.models, { glove: 'glove-100d' });
    assert.equal(result.method, 'scorer');
    assert.ok(result.evidence.every((e) => e.signal !== 'elmo' && e.signal !== 'bert'), JSON.stringify(result.evidence));
  });

  test('the shipped scorer with another BERT: every signal once it has sense vectors, the shipped choice without', async () => {
    const shipped = parseScorerFile(JSON.parse(readFileSync(path.join(resources.sensesDir, 'scorer.json'), 'utf8')))!;
    if (!shipped.allSignals || usesSignal(shipped.weights, 'bert')) return; // the shipped scorer already hears BERT
    const other = { ...(await store.get('bert-mini')), id: 'bert-downloaded' } as ModelInfo;
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'lm-lens-senses-'));
    const builtDir = mkdtempSync(path.join(tmpdir(), 'lm-lens-senses-')); // a store's absence is memoised per folder
    try {
      const ask = async (cache: string) => {
        const { services, runs } = countingServices();
        const { weights: _, ...shippedWeights } = await request(priorLeskGlove);
        const result = await sense({ ...shippedWeights, bert: other, resources: { ...resources, cacheDir: cache } }, context(), services);
        return { runs, result };
      };
      const without = await ask(cacheDir);
      assert.deepEqual(without.runs, { 'elmo-mini': 1 }, 'a BERT without sense vectors is not run');
      assert.equal(without.result.models.bert, undefined);
      assert.deepEqual(without.result.missingSenseVectors, ['bert-downloaded'], 'the answer says which model has none yet');
      // the same weights under another name: bert-mini's shipped sense vectors match its fingerprint
      const [from, to] = [storeFiles(resources.sensesDir, 'bert-mini'), storeFiles(builtDir, 'bert-downloaded')];
      copyFileSync(from.manifest, to.manifest);
      copyFileSync(from.bin, to.bin);
      const withVectors = await ask(builtDir);
      assert.deepEqual(withVectors.runs, { 'elmo-mini': 1, 'bert-downloaded': 1 }, 'with sense vectors the every-signal scorer runs it');
      assert.equal(withVectors.result.models.bert, 'bert-downloaded');
      assert.deepEqual(withVectors.result.missingSenseVectors, []);
    } finally {
      for (const dir of [cacheDir, builtDir]) rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a scorer with every signal: BERT runs once and both models are reported', async () => {
    const { services, runs } = countingServices();
    const result = await sense(await request(everySignal), context(), services);
    assert.deepEqual(runs, { 'elmo-mini': 1, 'bert-mini': 1 });
    assert.deepEqual(result.models, { elmo: 'elmo-mini', bert: 'bert-mini', glove: 'glove-100d' });
  });
});
