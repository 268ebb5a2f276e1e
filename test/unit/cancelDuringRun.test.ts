/**
 * Stopping the engine while ONNX Runtime is inside a long `session.run` (issue 12): `Engine.dispose()` and
 * Ctrl+C on the CLI must neither kill the process ("terminate called after throwing an instance of
 * 'Napi::Error'", exit 134 — what terminating the worker mid-run did) nor leave it hanging. Each scenario runs
 * in a child process, with a masked LM whose run takes several seconds (helpers/lmModels.ts).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cpuMsOf } from './helpers/cli';
import { writeLeftNeighbourBert, writeSlowBert } from './helpers/lmModels';
import { DIST, FIXTURES, tempDir } from './helpers/modelFolders';

interface Exit {
  /** ms from the start to the first byte on stderr, and to the exit. */
  firstStderrMs: number | undefined;
  exitMs: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], whileRunning?: (pid: number) => Promise<void>): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let firstStderrMs: number | undefined;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      firstStderrMs ??= Date.now() - started;
      stderr += chunk.toString();
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 120_000); // a hang fails the test, not the suite
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ firstStderrMs, exitMs: Date.now() - started, code, signal, stdout, stderr });
    });
    void whileRunning?.(child.pid!).catch(reject);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// The run must outlast the old 5 s wait after the cancel by a margin: 700 MatMuls of 1024 x 1024 took 18 s of
// one core here with training running beside (2026-12-01); loading the model, 0.05 s.
const STEPS = 700;
/** Cancel once the child has used this much CPU: the worker and model load take well under it. */
const CANCEL_AT_CPU_MS = 2000;

describe('cancelling a long session.run', { timeout: 300_000 }, () => {
  const models = tempDir();
  before(() => {
    writeSlowBert(models.dir, 'slow-bert', STEPS, 1024);
    writeLeftNeighbourBert(models.dir, 'quick-bert');
  });
  after(() => models.remove());

  test('Engine.dispose() during the run: the process survives and exits by itself once the run is over', async () => {
    const exit = await run([path.join(FIXTURES, 'slowRun.js'), models.dir, path.join(DIST, 'worker.js'), String(CANCEL_AT_CPU_MS), 'dispose']);
    assert.doesNotMatch(exit.stderr, /terminate called|FATAL ERROR|Napi::Error/);
    assert.equal(exit.signal, null, exit.stderr);
    assert.equal(exit.code, 0, exit.stderr);
    const events = exit.stdout.trim().split('\n').map((line) => JSON.parse(line) as object);
    assert.deepEqual(events, [{ disposing: true }, { slow: 'CANCELLED' }, { disposed: true }]);
  });

  test('Ctrl+C on the CLI during the run: CANCELLED at once, exit 1 after the run, no abort', async () => {
    const exit = await run(
      [path.join(DIST, 'cli.js'), '--models-dir', models.dir, 'fill', '--model', 'slow-bert', '--text', 'the [MASK] barked'],
      async (pid) => {
        if (cpuMsOf(pid) === undefined) await sleep(3000); // not Linux: guess
        else while ((cpuMsOf(pid) ?? Infinity) < CANCEL_AT_CPU_MS) await sleep(20);
        process.kill(pid, 'SIGINT');
      },
    );
    assert.doesNotMatch(exit.stderr, /terminate called|FATAL ERROR|Napi::Error/);
    assert.equal(exit.signal, null, exit.stderr);
    assert.equal(exit.code, 1, exit.stderr);
    assert.equal(exit.stdout, '');
    const [first, ...rest] = exit.stderr.trim().split('\n');
    assert.equal((JSON.parse(first!) as { error: { code: string } }).error.code, 'CANCELLED');
    for (const line of rest) assert.match(line, /^lm-lens: stopping after the model's current step/);
    // the error is printed at once; the process ends when the run does (seconds later)
    assert.ok(exit.firstStderrMs! < exit.exitMs - 1000, `error at ${exit.firstStderrMs} ms, exit at ${exit.exitMs} ms`);
  });

  test('the next request after a cancelled run is answered by a fresh worker, not after the run', async () => {
    const exit = await run([path.join(FIXTURES, 'slowRun.js'), models.dir, path.join(DIST, 'worker.js'), String(CANCEL_AT_CPU_MS), 'retire']);
    assert.doesNotMatch(exit.stderr, /terminate called|FATAL ERROR|Napi::Error/);
    assert.equal(exit.signal, null, exit.stderr);
    assert.equal(exit.code, 0, exit.stderr);
    const events = exit.stdout.trim().split('\n').map((line) => JSON.parse(line) as { log?: string });
    const at = (predicate: (e: { log?: string }) => boolean): number => events.findIndex(predicate);
    const retired = at((e) => /a fresh worker serves from now on/.test(e.log ?? ''));
    const quick = at((e) => 'quick' in e);
    const stopped = at((e) => /retired engine worker has left its cancelled run/.test(e.log ?? ''));
    assert.deepEqual(events[0], { slow: 'CANCELLED' });
    assert.deepEqual(events[quick], { quick: 'dog' });
    // in this order: the old worker retired, the quick answer, the old worker out of its run and stopped
    assert.ok(retired > 0 && retired < quick && quick < stopped, JSON.stringify(events));
    assert.deepEqual(events.at(-1), { disposed: true });
  });
});
