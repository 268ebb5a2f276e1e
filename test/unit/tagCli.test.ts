/** `lm-lens tag` and the tag `lm-lens sense` reports, as a user runs them (dist/cli.js, fixture taggers). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { SenseResult, TagResult } from '../../src/engine/api';
import { DIST, tempDir, writeElmoFolder, writeModelFolder } from './helpers/modelFolders';
import { always, elmoHeadConfig, elmoHeadModel, firstLetterRow, UNIVERSAL, writeElmoHead, writeTokenClassifier } from './helpers/taggerModels';

const CLI = path.join(DIST, 'cli.js');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Run {
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function assertError(run: Run, status: number, code: string, message?: RegExp): void {
  assert.equal(run.status, status, `exit status (stderr: ${run.stderr})`);
  assert.equal(run.stdout, '');
  const { error } = JSON.parse(run.stderr) as { error: { code: string; message: string } };
  assert.equal(error.code, code);
  if (message) assert.match(error.message, message);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
}

describe('lm-lens tag', () => {
  const models = tempDir();
  const bare = tempDir();
  const only = (dir: string): string[] => ['--only-models-dir', dir];
  before(() => {
    writeElmoFolder(models.dir, 'elmo-test');
    writeElmoHead(models.dir, 'pos-elmo-mini', 'elmo-test');
    writeElmoHead(models.dir, 'pos-verb', 'elmo-test', always('VERB'));
    writeTokenClassifier(models.dir, 'pos-bert-mini');
    writeModelFolder(models.dir, 'pos-broken', { config: elmoHeadConfig('elmo-test', { labels: UNIVERSAL.slice(1) }), onnx: elmoHeadModel(firstLetterRow) });
    writeElmoFolder(bare.dir, 'elmo-test');
  });
  after(() => {
    models.remove();
    bare.remove();
  });

  test('prints every word with its tag, probability and top tags (the default tagger: pos-elmo-mini)', () => {
    const run = cli(['tag', ...only(models.dir), '--text', 'We sat on the bank.']);
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout) as TagResult;
    assert.deepEqual([result.model, result.form, result.tagSet], ['pos-elmo-mini', 'elmo-head', 'universal']);
    assert.deepEqual(result.words.map((w) => w.tag), ['PRON', 'VERB', 'ADP', 'DET', 'NOUN', '.']);
    assert.deepEqual(Object.keys(result.words[4]!), ['word', 'start', 'end', 'tag', 'probability', 'top']);
    assert.deepEqual([result.words[4]!.word, result.words[4]!.start, result.words[4]!.end, result.words[4]!.top.length], ['bank', 14, 18, 3]);
    const bert = JSON.parse(cli(['tag', ...only(models.dir), '--text', 'The cats barked.', '--model', 'pos-bert-mini', '--top-k', '1']).stdout) as TagResult;
    assert.deepEqual(bert.words.map((w) => [w.word, w.tag, w.top.length]), [['The', 'DET', 1], ['cats', 'NOUN', 1], ['barked', 'VERB', 1], ['.', '.', 1]]);
  });

  test('errors: exit 2 with the code and the next step', () => {
    assertError(cli(['tag', ...only(bare.dir), '--text', 'a bank']), 2, 'MODEL_NOT_FOUND', /No tagger is installed\. LM Lens ships pos-elmo-mini/);
    assertError(cli(['tag', ...only(models.dir), '--text', 'a bank', '--model', 'elmo-test']), 2, 'BAD_INPUT', /tag needs a tagger/);
    assertError(cli(['tag', ...only(models.dir), '--text', 'a bank', '--model', 'pos-broken']), 2, 'MODEL_CORRUPT', /"logits" has 12 tags per position but config\.json names 11/);
    assertError(cli(['tag', ...only(models.dir)]), 2, 'BAD_INPUT', /--text is required/);
    assertError(cli(['tag', ...only(models.dir), '--text', 'a bank', '--top-k', '0']), 2, 'BAD_INPUT', /--top-k must be a whole number from 1 up/);
    assert.match(cli(['--help']).stdout, /tag --text TEXT \[--model ID\] \[--top-k K\]/);
    const listed = JSON.parse(cli(['models', ...only(models.dir)]).stdout) as { id: string; kind: string; tagger?: { form: string; labels: string[] } }[];
    const head = listed.find((m) => m.id === 'pos-elmo-mini');
    assert.deepEqual([head?.kind, head?.tagger?.form, head?.tagger?.labels.length], ['tagger', 'elmo-head', 12]);
  });

  test('sense reports the tag it used; --tagger picks one, --no-pos-filter scores every part of speech', () => {
    const text = 'In April we plant the seeds in the garden soil.';
    const byDefault = JSON.parse(cli(['sense', ...only(models.dir), '--text', text, '--word', 'plant']).stdout) as SenseResult;
    assert.deepEqual([byDefault.tag?.model, byDefault.tag?.sharedRun], ['pos-elmo-mini', true]);
    const verb = cli(['sense', ...only(models.dir), '--text', text, '--word', 'plant', '--tagger', 'pos-verb']);
    assert.equal(verb.status, 0, verb.stderr);
    const asVerb = JSON.parse(verb.stdout) as SenseResult;
    assert.deepEqual([asVerb.pos, asVerb.tag?.tag, asVerb.tag?.wordnetPos, asVerb.tag?.filtered], ['v', 'VERB', 'v', true]);
    const unfiltered = JSON.parse(cli(['sense', ...only(models.dir), '--text', text, '--word', 'plant', '--tagger', 'pos-verb', '--no-pos-filter']).stdout) as SenseResult;
    assert.deepEqual([unfiltered.tag?.filtered, unfiltered.tag?.reason], [false, 'disabled']);
    const none = JSON.parse(cli(['sense', ...only(bare.dir), '--text', text, '--word', 'plant']).stdout) as SenseResult;
    assert.equal(none.tag, undefined);
  });
});
