/**
 * dist/cli.js when its output cannot be written (issue 12): a reader that closes early (EPIPE) ends the
 * command quietly with its own status; a full disk (ENOSPC on `> /dev/full`) is one JSON error line and exit 1;
 * never a Node stack trace.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DIST, tempDir, writeElmoFolder } from './helpers/modelFolders';

const CLI = path.join(DIST, 'cli.js');
const STACK = /\n\s+at |Unhandled 'error' event|node:events/;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** Bytes of stdout read before closing it. */
  read: number;
}

/** Runs the CLI with stdout piped to a reader that takes `keep` bytes (0: none) and then closes its end. */
function closingReader(args: string[], keep: number): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let read = 0;
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    if (keep === 0) child.stdout.destroy();
    else {
      child.stdout.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read >= keep) child.stdout.destroy(); // like `| head -c 10`
      });
    }
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stderr, read });
    });
  });
}

/** Runs the CLI with stdout and/or stderr writing to /dev/full. */
function toDevFull(args: string[], streams: { stdout?: boolean; stderr?: boolean }): { status: number | null; stderr: string } {
  const full = openSync('/dev/full', 'w');
  try {
    const run = spawnSync(process.execPath, [CLI, ...args], {
      encoding: 'utf8',
      timeout: 30_000,
      stdio: ['ignore', streams.stdout ? full : 'pipe', streams.stderr ? full : 'pipe'],
    });
    return { status: run.status, stderr: run.stderr ?? '' };
  } finally {
    closeSync(full);
  }
}

describe('CLI output that cannot be written', () => {
  const models = tempDir();
  const dirArgs = (): string[] => ['--only-models-dir', models.dir];
  before(() => {
    // enough models, with long ids, for `models` to print several times a pipe's 64 KiB buffer
    for (let i = 0; i < 400; i++) writeElmoFolder(models.dir, `elmo-${String(i).padStart(3, '0')}-${'x'.repeat(200)}`);
  });
  after(() => models.remove());

  test('a reader that closes before reading: exit 0, nothing on stderr', async () => {
    for (const args of [['--help'], ['models', ...dirArgs()]]) {
      const exit = await closingReader(args, 0);
      assert.equal(exit.signal, null);
      assert.equal(exit.code, 0, `${args[0]}: ${exit.stderr}`);
      assert.equal(exit.stderr, '', args[0]);
    }
  });

  test('a reader that takes 10 bytes of a long output and closes (| head -c 10): exit 0, no stack trace', async () => {
    const exit = await closingReader(['models', ...dirArgs()], 10);
    assert.ok(exit.read >= 10);
    assert.equal(exit.signal, null);
    assert.equal(exit.code, 0, exit.stderr);
    assert.doesNotMatch(exit.stderr, STACK);
  });

  test('stdout on a full disk: one JSON error line, exit 1', { skip: existsSync('/dev/full') ? false : 'no /dev/full' }, () => {
    const run = toDevFull(['models', ...dirArgs()], { stdout: true });
    assert.equal(run.status, 1, run.stderr);
    assert.doesNotMatch(run.stderr, STACK);
    const lines = run.stderr.trim().split('\n');
    assert.equal(lines.length, 1, run.stderr);
    const { error } = JSON.parse(lines[0]!) as { error: { code: string; message: string } };
    assert.equal(error.code, 'INTERNAL');
    assert.match(error.message, /^Could not write the output to stdout: no space left on the device \(ENOSPC\)\.$/);
  });

  test('stderr on a full disk: the command keeps its own exit status', { skip: existsSync('/dev/full') ? false : 'no /dev/full' }, () => {
    assert.equal(toDevFull(['no-such-command'], { stderr: true }).status, 2, 'BAD_INPUT');
    assert.equal(toDevFull(['models', ...dirArgs()], { stdout: true, stderr: true }).status, 1, 'the result was lost');
  });
});
