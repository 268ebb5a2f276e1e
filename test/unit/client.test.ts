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
  const newClient = (logs: string[] = [], retireAfterMs?: number): EngineClient<TestMethods> => {
    const client = new EngineClient<TestMethods>({ workerPath, log: (m) => logs.push(m), ...(retireAfterMs === undefined ? {} : { retireAfterMs }) });
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

  test('a worker stuck in a cancelled run is retired: its queue and new requests go to a fresh worker', async () => {
    const logs: string[] = [];
    const client = newClient(logs, 100);
    const first = await client.request('echo', { value: 0 });
    const controller = new AbortController();
    const stuck = client.request('block', { ms: 2000 }, controller.signal);
    const queued = client.request('echo', { value: 'queued behind the run' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    await rejectsWith(stuck, 'CANCELLED');
    const moved = await queued;
    assert.equal(moved.value, 'queued behind the run');
    assert.notEqual(moved.threadId, first.threadId, 'answered by a fresh worker');
    assert.doesNotMatch(logs.join('\n'), /left its cancelled run/, 'before the old worker left the run');
    assert.equal(client.workerCount, 2);
    assert.equal((await client.request('echo', { value: 1 })).threadId, moved.threadId, 'the fresh worker serves from now on');
    // the old worker is terminated once it has left the run, not before
    for (const started = Date.now(); client.workerCount > 1 && Date.now() - started < 20_000; ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(client.workerCount, 1);
    assert.match(logs.join('\n'), /still inside a cancelled model run; a fresh worker serves from now on \(1 queued request\(s\) moved to it\)/);
    assert.match(logs.join('\n'), /The retired engine worker has left its cancelled run and stopped/);
    assert.doesNotMatch(logs.join('\n'), /request\(s\) failed/);
  });

  test('a cancel the worker honours at its next checkpoint keeps the same worker', async () => {
    const client = newClient([], 1000);
    const first = await client.request('echo', { value: 0 });
    const controller = new AbortController();
    const running = client.request('slow', { steps: 100, stepMs: 20 }, controller.signal);
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    await rejectsWith(running, 'CANCELLED');
    await new Promise((resolve) => setTimeout(resolve, 1200)); // past retireAfterMs
    assert.equal((await client.request('echo', { value: 1 })).threadId, first.threadId);
    assert.equal(client.workerCount, 1);
  });

  test('only one worker retires at a time', async () => {
    const logs: string[] = [];
    const client = newClient(logs, 50);
    const stuckOnce = new AbortController();
    const one = client.request('block', { ms: 1500 }, stuckOnce.signal);
    await new Promise((resolve) => setTimeout(resolve, 30));
    stuckOnce.abort();
    await rejectsWith(one, 'CANCELLED');
    const fresh = await client.request('echo', { value: 'fresh' }); // after the retirement
    const stuckTwice = new AbortController();
    const two = client.request('block', { ms: 300 }, stuckTwice.signal);
    stuckTwice.abort();
    await rejectsWith(two, 'CANCELLED');
    await new Promise((resolve) => setTimeout(resolve, 150)); // past retireAfterMs, the first still retiring
    assert.equal(client.workerCount, 2, 'no third worker');
    const stuckLong = new AbortController();
    const three = client.request('block', { ms: 3000 }, stuckLong.signal);
    const queued = client.request('echo', { value: 'queued' });
    stuckLong.abort();
    await rejectsWith(three, 'CANCELLED');
    // once the first has left its run and stopped, the stuck serving worker retires: the queued request moves on
    const moved = await queued;
    assert.notEqual(moved.threadId, fresh.threadId);
    assert.equal((logs.join('\n').match(/a fresh worker serves from now on/g) ?? []).length, 2);
  });

  test('retirements that answer nothing double the wait; an answer sets it back', async () => {
    const logs: string[] = [];
    const client = newClient(logs, 100);
    const retirements = (): number => (logs.join('\n').match(/a fresh worker serves from now on/g) ?? []).length;
    const stopped = (): number => (logs.join('\n').match(/has left its cancelled run and stopped/g) ?? []).length;
    const retiredStopped = async (): Promise<void> => {
      for (const started = Date.now(); stopped() < retirements() && Date.now() - started < 20_000; ) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(stopped(), retirements(), 'the retired worker has stopped');
    };
    const cancelledBlock = async (ms: number): Promise<void> => {
      const controller = new AbortController();
      const run = client.request('block', { ms }, controller.signal);
      controller.abort();
      await rejectsWith(run, 'CANCELLED');
    };
    // stuck past 100 ms: retired (nothing answered yet, so the next wait is 200 ms)
    await cancelledBlock(700);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(retirements(), 1);
    await retiredStopped();
    // the fresh worker is stuck past 200 ms: retired too (next wait 400 ms)
    await cancelledBlock(800);
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(retirements(), 2);
    await retiredStopped();
    // 250 ms inside a cancelled run is now within the wait: the same worker answers next
    const controller = new AbortController();
    const run = client.request('block', { ms: 250 }, controller.signal);
    controller.abort();
    await rejectsWith(run, 'CANCELLED');
    const answered = await client.request('echo', { value: 'kept' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(retirements(), 2, 'not retired inside the doubled wait');
    assert.equal((await client.request('echo', { value: 'again' })).threadId, answered.threadId);
    // that answer set the wait back to 100 ms
    await cancelledBlock(700);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(retirements(), 3);
  });

  test('dispose waits for a retiring worker too', async () => {
    const client = newClient([], 50);
    const controller = new AbortController();
    const stuck = client.request('block', { ms: 800 }, controller.signal);
    await new Promise((resolve) => setTimeout(resolve, 30));
    controller.abort();
    await rejectsWith(stuck, 'CANCELLED');
    await client.request('echo', { value: 'fresh' });
    assert.equal(client.workerCount, 2);
    await client.dispose();
    assert.equal(client.workerCount, 0);
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
