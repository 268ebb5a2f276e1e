import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  LensError,
  badInput,
  cancelled,
  deserializeError,
  isErrorCode,
  isInputError,
  modelCorrupt,
  serializeError,
  toLensError,
} from '../../src/engine/errors';

describe('LensError', () => {
  test('carries a code and a message and serialises to exactly that', () => {
    const error = new LensError('MODEL_NOT_FOUND', 'No model "x".');
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'LensError');
    assert.deepEqual(JSON.parse(JSON.stringify(error)), { code: 'MODEL_NOT_FOUND', message: 'No model "x".' });
  });

  test('survives the worker boundary (structured clone of its serialised form)', () => {
    const sent = structuredClone(serializeError(modelCorrupt('bad weights')));
    const received = deserializeError(sent);
    assert.ok(received instanceof LensError);
    assert.deepEqual([received.code, received.message], ['MODEL_CORRUPT', 'bad weights']);
  });

  test('anything thrown becomes a LensError; unknown things are INTERNAL', () => {
    const original = badInput('no');
    assert.equal(toLensError(original), original);
    assert.deepEqual(toLensError(new TypeError('x is undefined')).toJSON(), { code: 'INTERNAL', message: 'x is undefined' });
    assert.deepEqual(toLensError('plain string').toJSON(), { code: 'INTERNAL', message: 'plain string' });
    assert.equal(toLensError(new Error('disk'), 'MODEL_CORRUPT').code, 'MODEL_CORRUPT');
    assert.deepEqual(serializeError(new RangeError('too big')), { code: 'INTERNAL', message: 'too big' });
  });

  test('malformed error data from the worker is INTERNAL, never a crash', () => {
    assert.equal(deserializeError({ code: 'NOPE', message: 'x' }).code, 'INTERNAL');
    assert.equal(deserializeError(null).code, 'INTERNAL');
    assert.equal(deserializeError({ code: 'CANCELLED' }).message, 'CANCELLED');
  });

  test('input errors are the ones a user can fix', () => {
    assert.deepEqual(
      (['BAD_INPUT', 'MODEL_NOT_FOUND', 'MODEL_CORRUPT', 'INPUT_TOO_LONG', 'CANCELLED', 'WORKER_CRASHED', 'INTERNAL'] as const).map(
        (code) => [code, isErrorCode(code), isInputError(code)],
      ),
      [
        ['BAD_INPUT', true, true],
        ['MODEL_NOT_FOUND', true, true],
        ['MODEL_CORRUPT', true, true],
        ['INPUT_TOO_LONG', true, true],
        ['CANCELLED', true, false],
        ['WORKER_CRASHED', true, false],
        ['INTERNAL', true, false],
      ],
    );
    assert.equal(isErrorCode('toString'), false);
    assert.equal(cancelled().code, 'CANCELLED');
  });
});
