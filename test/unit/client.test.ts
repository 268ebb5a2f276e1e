import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { LensError } from '../../src/engine/errors';
import { EngineClient } from '../../src/engine/runtime/client';
import type { TestMethods } from './fixtures/testWorker';
import { FIXTURES } from './helpers/modelFolders';

const workerPath = path.join(FIXTURES, 'testWorker.js');

function rejectsWith(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  return assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof LensError, `expected a LensError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (message) assert.match(error.message, message);
    return true;
  });
}

describe('EngineClient', () => {
  const clients: EngineClient<TestMethods>[] = [];
  const newClient = (logs: string[] = []): EngineClient<TestMethods> => {
    const client = new EngineClient<TestMethods>({ workerPath, log: (m) => logs.push(m) });
    clients.push(client);
    return client;
  };
  after(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
  });

  test('starts the worker lazily and matches replies to requests', async () => {
    const client = newClient();
    assert.equal(client.started, false);
    const replies = await Promise.all([1, 2, 3].map((n) => client.request('echo', { value: { n } })));
    assert.equal(client.started, true);
    assert.deepEqual(
      replies.map((r) => r.value),
      [{ n: 1 }, { n: 2 }, { n: 3 }],
    );
    assert.equal(new Set(replies.map((r) => r.threadStarted)).size, 1, 'one worker serves them all');
  });

  test("the worker's LensError keeps its code; other errors become INTERNAL", async () => {
    const client = newClient();
    await rejectsWith(client.request('fail', { code: 'MODEL_CORRUPT', message: 'bad weights' }), 'MODEL_CORRUPT', /^bad weights$/);
    await rejectsWith(client.request('throwPlain', { message: 'oops' }), 'INTERNAL', /oops/);
    const untyped = client as unknown as EngineClient<{ nope: { params: object; result: unknown } }>;
    await rejectsWith(untyped.request('nope', {}), 'INTERNAL', /no method "nope"/);
  });

  test('an already-aborted signal rejects without starting the worker', async () => {
    const client = newClient();
    await rejectsWith(client.request('echo', { value: 1 }, AbortSignal.abort()), 'CANCELLED');
    assert.equal(client.started, false);
  });

  test('cancel rejects at once and the worker stops at its next checkpoint', async () => {
    const client = newClient();
    const controller = new AbortController();
    const running = client.request('slow', { steps: 100, stepMs: 20 }, controller.signal);
    await new Promise((resolve) => setTimeout(resolve, 70));
    const abortedAt = Date.now();
    controller.abort();
    await rejectsWith(running, 'CANCELLED');
    assert.ok(Date.now() - abortedAt < 50, 'the client does not wait for the worker');
    // the worker notices at its next checkpoint: poll for it (a loaded machine delays that step, not the outcome)
    let last = await client.request('lastSlow', {});
    for (const started = Date.now(); !last.cancelled && Date.now() - started < 5000; ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      last = await client.request('lastSlow', {});
    }
    assert.equal(last.cancelled, true);
    assert.ok(last.done < 20, `stopped early (after ${last.done} of 100 steps)`);
  });

  test('a reply that arrives after a cancel is dropped, and the worker keeps serving', async () => {
    const client = newClient();
    const controller = new AbortController();
    const late = client.request('sleep', { ms: 80 }, controller.signal);
    controller.abort();
    await rejectsWith(late, 'CANCELLED');
    await new Promise((resolve) => setTimeout(resolve, 120)); // the late reply arrives now, and is ignored
    assert.deepEqual((await client.request('echo', { value: 'still here' })).value, 'still here');
  });

  test('a worker that exits fails every pending request with WORKER_CRASHED, then restarts', async () => {
    const logs: string[] = [];
    const client = newClient(logs);
    const first = await client.request('echo', { value: 0 });
    const pending = rejectsWith(client.request('slow', { steps: 50, stepMs: 20 }), 'WORKER_CRASHED');
    await rejectsWith(client.request('exit', { code: 3 }), 'WORKER_CRASHED', /exited with code 3/);
    await pending;
    assert.equal(client.started, false);
    assert.match(logs.join('\n'), /2 request\(s\) failed/);

    const again = await client.request('echo', { value: 'back' });
    assert.equal(again.value, 'back');
    assert.notEqual(again.threadStarted, first.threadStarted, 'a fresh worker');
  });

  test('an uncaught exception in the worker is a crash too', async () => {
    const client = newClient();
    await rejectsWith(client.request('throwUncaught', {}), 'WORKER_CRASHED', /boom outside any request/);
    assert.equal((await client.request('echo', { value: 1 })).value, 1);
  });

  test('a worker file that does not exist is reported as WORKER_CRASHED, not thrown', async () => {
    const client = new EngineClient<TestMethods>({ workerPath: path.join(FIXTURES, 'missing-worker.js') });
    clients.push(client);
    await rejectsWith(client.request('echo', { value: 1 }), 'WORKER_CRASHED');
  });

  test('dispose cancels pending requests and refuses new ones', async () => {
    const client = newClient();
    const pending = rejectsWith(client.request('slow', { steps: 50, stepMs: 20 }), 'CANCELLED');
    await client.dispose();
    await pending;
    await rejectsWith(client.request('echo', { value: 1 }), 'CANCELLED');
  });
});
