/**
 * Robustness: the real CLI (dist/cli.js) against bad options, closed pipes, cancellation during a slow run and a
 * hostile Hub-shaped server on loopback. The contract: one JSON error with the right exit status and no stack
 * trace, no hang, nothing written outside the models folder and the temporary home, nothing half-installed listed
 * as a model.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, openSync, readdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { downloadModel } from '../../src/engine/hub';
import { FakeHub, bertLikeFiles } from '../fixtures/hub/fakeHub';
import { CLI, assertError, cli, cpuMsOf, exitStatusFor, parseJsonError } from '../unit/helpers/cli';
import { writeCountingGpt2, writeLeftNeighbourBert, writeSlowBert } from '../unit/helpers/lmModels';
import { tempDir } from '../unit/helpers/modelFolders';

const TIMEOUT = { timeoutMs: 60_000 };

describe('the CLI contract', { concurrency: 6 }, () => {
  const models = tempDir('lm-lens-robust-cli-');
  const home = tempDir('lm-lens-robust-home-'); // HOME, XDG_CACHE_HOME and LM_LENS_HOME: nothing may appear outside models/
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home.dir, XDG_CACHE_HOME: path.join(home.dir, '.cache'), LM_LENS_HOME: path.join(home.dir, 'lens') };
  delete env['ORT_DISABLE_TELEMETRY'];
  delete env['HF_TOKEN'];
  const dir = ['--only-models-dir', models.dir];
  const run = (args: string[]) => cli(args, { ...TIMEOUT, env });
  let hub: FakeHub;
  let hostile: http.Server;
  let hostileUrl = '';

  before(async () => {
    writeCountingGpt2(models.dir, 'counting');
    writeLeftNeighbourBert(models.dir, 'bert-test');
    writeSlowBert(models.dir, 'slow-bert', 1500, 512); // a run of ~4 s of one core: Ctrl+C lands inside it
    hub = await FakeHub.start({ repo: 'Test/tiny-bert', files: bertLikeFiles(4000), mode: 'static' });
    // redirects every file to a URL given in the path: /to/<encoded URL>/Test/tiny-bert/resolve/main/<file>
    hostile = http.createServer((req, res) => {
      const [, , target] = (req.url ?? '').split('/');
      res.writeHead(302, { location: decodeURIComponent(target ?? '') });
      res.end();
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', () => resolve()));
    hostileUrl = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
  });
  after(async () => {
    await hub.close();
    hostile.closeAllConnections();
    await new Promise<void>((resolve) => hostile.close(() => resolve()));
    // nothing outside the models folders: the home holds at most lens/models and lens/cache
    const written = readdirSync(home.dir, { recursive: true, encoding: 'utf8' }).filter((f) => !/^lens(\/(models|cache)(\/.*)?)?$/.test(f));
    models.remove();
    home.remove();
    assert.deepEqual(written, [], 'nothing written outside the models folder and the cache');
  });

  // --- bad options: exit 2, BAD_INPUT
  const BAD: [string[], RegExp][] = [
    [['fill', '--text', 'the [MASK]', '--top-k', '-1'], /./],
    [['fill', '--text', 'the [MASK]', '--top-k', '1e3'], /whole number/],
    [['fill', '--text', 'no mask here'], /MASK/],
    [['complete', '--text', 'hi', '--max-tokens', '0'], /whole number from 1/],
    [['complete', '--text', 'hi', '--temperature', 'NaN'], /must be a number/],
    [['complete', '--text', 'hi', '--temperature', '-1'], /./],
    [['complete', '--text', 'hi', '--top-p', '2'], /./],
    [['complete', '--text', 'hi', '--seed', '-3'], /./],
    [['score'], /either --text or --file/],
    [['score', '--text', 'a', '--file', 'b'], /either --text or --file/],
    [['score', '--file', '/nonexistent/file.txt'], /ENOENT/],
    [['score', '--file', process.execPath], /looks like a binary file/], // node itself: an executable
    [['eval', 'perplexity', '--file', process.execPath], /looks like a binary file/],
    [['embed', '--text', 'a bank', '--word', 'bank', '--occurrence', '0'], /whole number/],
    [['eval', 'nonsense', '--file', 'x'], /pairs\|cloze\|perplexity\|tags\|completion/],
    [['eval', 'tags', '--file', '/nonexistent/gold.tsv'], /ENOENT/],
    [['eval', 'tags', '--file', '/'], /is a folder/],
    [['eval', 'completion', '--file', '/nonexistent/essay.txt'], /ENOENT/],
    [['eval', 'completion', '--file', 'x', '--every', '0'], /whole number from 1/],
    [['eval', 'completion', '--file', 'x', '--healing', 'maybe'], /healing must be "token", "space" or "none"/],
    [['eval', 'completion', '--file', 'x', '--cursor', 'maybe'], /cursor must be/],
    [['complete', '--text', 'x', '--heal', 'yes'], /Unexpected argument "yes"/],
    [['models', '--no-such-option'], /Unknown option/],
    [['add-model', '../../etc'], /./],
    [['add-model', 'Test/tiny-bert', '--variant', 'int3'], /fp32 or quantized/],
    [['add-model', 'Test/tiny-bert', '--endpoint', 'http://example.com'], /./],
    [['add-model', 'Test/tiny-bert', '--endpoint', 'file:///etc/passwd'], /./],
    [['add-model', 'Test/tiny-bert', '--id', '../escape'], /./],
    [['remove-model', '../models'], /./],
  ];
  for (const [args, message] of BAD) {
    test(`bad option: ${args.join(' ')}`, async () => {
      assertError(await run([...args, ...dir]), 2, 'BAD_INPUT', message);
    });
  }

  // --- closed pipes
  test('stdout closed early (| head -c 10): exit 0, no stack trace', async () => {
    // ~150 KB of JSON: more than a pipe holds, so writing goes on after the reader has gone
    const child = spawn(process.execPath, [CLI, 'score', ...dir, '--model', 'counting', '--text', 'abcdefgh'.repeat(400)], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.once('data', () => child.stdout.destroy()); // read a little, then go away
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    clearTimeout(killer);
    assert.equal(status, 0, stderr);
    assert.doesNotMatch(stderr, /EPIPE|\n\s+at /);
  });

  test('stdout on a full disk (> /dev/full): exit 1 with one JSON error', { skip: !existsSync('/dev/full') && 'no /dev/full' }, async () => {
    const full = openSync('/dev/full', 'w');
    const child = spawn(process.execPath, [CLI, 'models', ...dir], { env, stdio: ['ignore', full, 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    assert.equal(status, 1, stderr);
    assert.match(parseJsonError(stderr).message, /ENOSPC/);
    assert.doesNotMatch(stderr, /\n\s+at /);
  });

  // --- cancellation during a slow run
  test('Ctrl+C during a slow fill: CANCELLED, exit 1, no abort', async () => {
    const child = spawn(process.execPath, [CLI, 'fill', ...dir, '--model', 'slow-bert', '--text', 'the [MASK] barked'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    // Ctrl+C once the CLI is running the model (its CPU time past start-up), not while node is still starting
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    void (async () => {
      if (cpuMsOf(child.pid!) === undefined) await sleep(3000);
      else while ((cpuMsOf(child.pid!) ?? Infinity) < 1200) await sleep(20);
      child.kill('SIGINT');
    })();
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
    clearTimeout(killer);
    assert.equal(signal, null, `ended by ${signal}: ${stderr}`);
    assert.doesNotMatch(stderr, /terminate called|Napi::Error|\n\s+at /);
    if (code === 0) return; // the run ended before the signal (a fast machine): nothing to cancel
    assert.equal(code, 1, stderr);
    assert.equal(parseJsonError(stderr).code, 'CANCELLED');
  });

  // --- a hostile Hub-shaped server on loopback
  const listedIds = async (root: string): Promise<string[]> => {
    const listed = await run(['models', '--only-models-dir', root]);
    assert.equal(listed.status, 0, listed.stderr);
    return (JSON.parse(listed.stdout) as { id: string }[]).map((m) => m.id);
  };

  const HOSTILE: { name: string; faults?: Record<string, object>; endpoint?: () => string; code: string; mode?: 'hub' }[] = [
    { name: 'an HTML error page for onnx/model.onnx', faults: { 'onnx/model.onnx': { errorPage: '<html>502 Bad Gateway</html>' } }, code: 'DOWNLOAD_FAILED' },
    { name: 'an HTML error page for config.json', faults: { 'config.json': { errorPage: '<html>oops</html>' } }, code: 'DOWNLOAD_FAILED' },
    { name: 'gzip-compressed bytes', faults: { 'onnx/model.onnx': { gzip: true } }, code: 'DOWNLOAD_FAILED' },
    { name: 'a corrupted file (the Hub API gives its sha256)', faults: { 'onnx/model.onnx': { corrupt: true } }, code: 'DOWNLOAD_FAILED', mode: 'hub' },
    { name: 'a redirect to plain http on another machine', endpoint: () => `${hostileUrl}/to/${encodeURIComponent('http://example.invalid/x')}`, code: 'BAD_INPUT' },
    { name: 'a redirect to file:', endpoint: () => `${hostileUrl}/to/${encodeURIComponent('file:///etc/passwd')}`, code: 'BAD_INPUT' },
  ];
  for (const { name, faults, endpoint, code, mode = 'static' } of HOSTILE) {
    test(`add-model from a server answering ${name}: ${code}, nothing listed`, async () => {
      const root = tempDir('lm-lens-robust-dl-');
      try {
        // each case its own FakeHub faults would race with concurrent cases: a fresh server per case
        const server = faults ? await FakeHub.start({ repo: 'Test/tiny-bert', files: bertLikeFiles(4000), mode }) : undefined;
        for (const [file, fault] of Object.entries(faults ?? {})) server!.faults.set(file, fault);
        const result = await run(['add-model', 'Test/tiny-bert', '--endpoint', endpoint ? endpoint() : server!.url, '--dir', root.dir]);
        await server?.close();
        const error = parseJsonError(result.stderr);
        assert.equal(error.code, code, error.message);
        assert.equal(result.status, exitStatusFor(code));
        assert.equal(result.stdout, '');
        assert.doesNotMatch(result.stderr, /\n\s+at /);
        assert.deepEqual((await listedIds(root.dir)).filter((id) => id.startsWith('Test')), [], 'nothing half-installed listed');
      } finally {
        root.remove();
      }
    });
  }

  test('add-model from a clean static mirror installs a model (the hostile cases can fail)', async () => {
    const root = tempDir('lm-lens-robust-dl-');
    try {
      const result = await run(['add-model', 'Test/tiny-bert', '--endpoint', hub.url, '--dir', root.dir]);
      assert.equal(result.status, 0, result.stderr);
      assert.equal((JSON.parse(result.stdout) as { id: string }).id, 'Test--tiny-bert');
    } finally {
      root.remove();
    }
  });

  test('a server trickling bytes is timed out (engine, 400 ms windows): NETWORK timeout, nothing complete', async () => {
    const root = tempDir('lm-lens-robust-dl-');
    const server = await FakeHub.start({ repo: 'Test/tiny-bert', files: bertLikeFiles(40_000), mode: 'static' });
    server.faults.set('onnx/model.onnx', { trickle: { delayMs: 50, bytes: 2 } });
    try {
      await assert.rejects(
        downloadModel({ repo: 'Test/tiny-bert', endpoint: server.url, destRoot: root.dir, timeoutMs: 400, retries: 0 }),
        (error: { code?: string; reason?: string }) => error.code === 'NETWORK' && error.reason === 'timeout',
      );
      assert.deepEqual((await listedIds(root.dir)).filter((id) => id.startsWith('Test')), []);
    } finally {
      await server.close();
      root.remove();
    }
  });
});
