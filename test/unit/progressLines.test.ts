/** The CLI's progress lines (score --file, eval): at most one every 2 s, none for a quick run (issue 12). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { throttledProgress } from '../../src/progressLines';

test('throttledProgress: nothing before the interval, then one line per interval with done/total', () => {
  let clock = 1000;
  const lines: string[] = [];
  const report = throttledProgress(() => 'score windows', (line) => lines.push(line), 2000, () => clock);
  report({ done: 1, total: 400 });
  clock += 1999;
  report({ done: 2, total: 400 });
  assert.deepEqual(lines, [], 'a run quicker than 2 s prints nothing');
  clock += 1;
  report({ done: 3, total: 400 });
  clock += 500;
  report({ done: 4, total: 400 });
  clock += 2000;
  report({ done: 9, total: 400 });
  assert.deepEqual(lines, ['score windows 3/400\n', 'score windows 9/400\n']);
});
