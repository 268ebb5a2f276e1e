/** Test helper: the largest |a - b| over two equally long sets of numbers (typed arrays, or arrays nested to any depth). */
import assert from 'node:assert/strict';

type Numbers = ArrayLike<number> | readonly unknown[];

function flat(x: Numbers): ArrayLike<number> {
  return Array.isArray(x) && x.some(Array.isArray) ? (x.flat(Infinity) as number[]) : (x as ArrayLike<number>);
}

export function maxAbsDiff(a: Numbers, b: Numbers): number {
  const fa = flat(a);
  const fb = flat(b);
  assert.equal(fa.length, fb.length, 'same number of values');
  let m = 0;
  for (let i = 0; i < fa.length; i++) m = Math.max(m, Math.abs(fa[i]! - fb[i]!));
  return m;
}
