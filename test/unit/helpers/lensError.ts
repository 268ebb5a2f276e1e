/** An `assert.rejects` / `assert.throws` predicate: the error is a LensError with `code` (and a message matching). */
import assert from 'node:assert/strict';
import { LensError } from '../../../src/engine/errors';

export function lensError(code: string, message?: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof LensError, `expected a LensError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return true;
  };
}
