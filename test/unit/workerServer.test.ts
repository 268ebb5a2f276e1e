/**
 * The worker's serve loop on a MessageChannel, without a worker thread: results marked with `transferring` move
 * their buffers (the sender's copy is detached, the receiver's holds the data), and a buffer that cannot move is
 * copied instead of failing the request.
 */
import assert from 'node:assert/strict';
import { markAsUntransferable, MessageChannel, type MessagePort } from 'node:worker_threads';
import { test } from 'node:test';
import { serve, type Handlers } from '../../src/engine/runtime/server';
import { transferListOf, transferring } from '../../src/engine/runtime/transfer';

interface Methods {
  make: { params: { n: number; untransferable?: boolean; mark?: boolean }; result: { data: Float32Array } };
}

/** Runs `check` against a served `make` method (the arrays it made kept in `kept`), then closes both ports. */
async function withServed(check: (client: MessagePort, kept: Float32Array[]) => Promise<void>): Promise<void> {
  const { port1, port2 } = new MessageChannel();
  const kept: Float32Array[] = [];
  const handlers: Handlers<Methods> = {
    make: async ({ n, untransferable, mark = true }) => {
      const data = new Float32Array(n);
      if (untransferable) markAsUntransferable(data.buffer);
      for (let i = 0; i < n; i++) data[i] = i / 2;
      kept.push(data);
      const result = { data };
      return mark ? transferring(result, [data.buffer]) : result;
    },
  };
  serve(handlers, port1);
  try {
    await check(port2, kept);
  } finally {
    port1.close();
    port2.close();
  }
}

function call(client: MessagePort, id: number, params: Methods['make']['params']): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    client.once('message', resolve);
    client.postMessage({ id, method: 'make', params });
  });
}

test('a result marked with transferring moves its buffer: detached in the worker, whole on the other side', () =>
  withServed(async (client, kept) => {
    const reply = await call(client, 1, { n: 1000 });
    const data = (reply['result'] as { data: Float32Array }).data;
    assert.equal(data.length, 1000);
    assert.equal(data[999], 499.5);
    assert.equal(kept[0]!.length, 0, "the worker's array was moved, not copied");
    assert.equal(kept[0]!.buffer.byteLength, 0);
  }));

test('an unmarked result is copied: the worker keeps its array', () =>
  withServed(async (client, kept) => {
    const reply = await call(client, 1, { n: 10, mark: false });
    assert.equal((reply['result'] as { data: Float32Array }).data[9], 4.5);
    assert.equal(kept[0]!.length, 10);
  }));

// Node 20 copies an untransferable buffer silently; later versions throw, and the server then sends a copy
test('a buffer that cannot move is copied, and the request still gets its result', () =>
  withServed(async (client, kept) => {
    const reply = await call(client, 7, { n: 10, untransferable: true });
    assert.equal(reply['id'], 7);
    assert.equal(reply['error'], undefined);
    assert.equal((reply['result'] as { data: Float32Array }).data[3], 1.5);
    assert.equal(kept[0]!.length, 10);
  }));

test('transferring keeps each buffer once and skips empty and shared ones', () => {
  const a = new ArrayBuffer(8);
  const result = transferring({}, [a, a, new ArrayBuffer(0), new SharedArrayBuffer(8)]);
  assert.deepEqual(transferListOf(result), [a]);
  assert.deepEqual(transferListOf({}), []);
  assert.deepEqual(transferListOf(null), []);
  assert.deepEqual(transferListOf(3), []);
});
