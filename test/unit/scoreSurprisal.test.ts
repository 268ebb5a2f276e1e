/** From a score result to the Show Surprisal colours (pure helpers of src/features/surprisal, no `vscode`). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { surprisalBits, surprisalLevel, surprisalSpans } from '../../src/features/surprisal/surprisalSpans';

describe('surprisal spans', () => {
  test('bits are -log2 p; levels rise with surprisal', () => {
    assert.equal(surprisalBits(Math.log(0.5)), 1);
    assert.deepEqual([0.5, 4, 8, 12, 30].map(surprisalLevel), [0, 1, 2, 3, 4]);
  });

  test('spans in document offsets, leading spaces and unplaced tokens left out', () => {
    const spans = surprisalSpans(
      {
        tokens: ['The', ' dog', ' ', '?'],
        tokenLogProbs: [Math.log(0.25), Math.log(1 / 1024), Math.log(0.5), Math.log(0.5)],
        offsets: [[0, 3], [3, 7], [7, 8], null],
      },
      100,
    );
    assert.deepEqual(
      spans.map((s) => [s.start, s.end, s.bits, s.level]),
      [
        [100, 103, 2, 0],
        [104, 107, 10, 3],
      ],
    );
  });
});
