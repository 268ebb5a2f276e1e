import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkAttentionRequest } from '../../src/engine/tasks/attention/attention';
import { checkEmbedRequest } from '../../src/engine/tasks/embed/embed';
import { checkFillRequest } from '../../src/engine/tasks/fill/fill';
import { checkGenerateRequest } from '../../src/engine/tasks/generate/generate';
import { checkModelId, checkText } from '../../src/engine/tasks/requestChecks';
import { checkScoreRequest } from '../../src/engine/tasks/score/score';
import { checkTagRequest } from '../../src/engine/tasks/tag/tag';
import { checkLogLikelihoodRequest } from '../../src/engine/eval/likelihood';
import { lensError } from './helpers/lensError';

// A valid request per task; each case below spoils one field of it. Requests come from JSON (CLI, settings),
// so wrong types are spoiled in as `unknown`.
const TASKS: Record<string, { check: (request: never) => unknown; valid: Record<string, unknown>; empty: RegExp }> = {
  fill: { check: checkFillRequest, valid: { text: 'A [MASK] day.' }, empty: /^The text is empty\.$/ },
  embed: { check: checkEmbedRequest, valid: { text: 'The river bank.', word: 'bank' }, empty: /^The text is empty\.$/ },
  attention: { check: checkAttentionRequest, valid: { text: 'The river bank.' }, empty: /^The text is empty\.$/ },
  tag: { check: checkTagRequest, valid: { text: 'The river bank.' }, empty: /^The text is empty\.$/ },
  generate: { check: checkGenerateRequest, valid: { text: 'Once upon' }, empty: /^The text to continue is empty\.$/ },
  score: { check: checkScoreRequest, valid: { text: 'The river bank.' }, empty: /^The text to score is empty\.$/ },
};

describe('request checks every task shares', () => {
  for (const [name, { check, valid, empty }] of Object.entries(TASKS)) {
    const run = (change: Record<string, unknown>) => () => check({ ...valid, ...change } as never);

    test(`${name}: a valid request passes, with or without a model id`, () => {
      assert.doesNotThrow(run({}));
      assert.doesNotThrow(run({ model: 'some-model' }));
    });

    test(`${name}: empty, blank or non-string text is BAD_INPUT naming the text`, () => {
      for (const text of ['', '  \n\t', undefined, 42]) assert.throws(run({ text }), lensError('BAD_INPUT', empty));
    });

    test(`${name}: an empty or non-string model id is BAD_INPUT`, () => {
      for (const model of ['', 7, null]) assert.throws(run({ model }), lensError('BAD_INPUT', /^The model id is empty\.$/));
    });
  }

  test('scoring sentences for the scoreboard rejects an empty model id the same way', () => {
    assert.doesNotThrow(() => checkLogLikelihoodRequest({ sentences: ['A dog barked.'] }));
    assert.throws(() => checkLogLikelihoodRequest({ sentences: ['A dog barked.'], model: '' }), lensError('BAD_INPUT', /^The model id is empty\.$/));
  });

  test('the other texts a request names are checked the same way, each named in the message', () => {
    for (const word of ['', ' ', 3]) {
      assert.throws(() => checkEmbedRequest({ text: 'The river bank.', word } as never), lensError('BAD_INPUT', /^The word to look up is empty\.$/));
    }
    for (const second of ['', '\t', null]) {
      assert.throws(() => checkLogLikelihoodRequest({ sentences: ['A dog barked.', second] } as never), lensError('BAD_INPUT', /^Sentence 2 is empty\.$/));
    }
  });

  test('the shared checks themselves', () => {
    assert.doesNotThrow(() => checkText('x'));
    assert.throws(() => checkText(' ', 'The prompt'), lensError('BAD_INPUT', /^The prompt is empty\.$/));
    assert.doesNotThrow(() => checkModelId(undefined));
    assert.throws(() => checkModelId(''), lensError('BAD_INPUT', /^The model id is empty\.$/));
  });
});
