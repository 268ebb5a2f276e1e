/**
 * Test helper: dist/cli.js run as a user runs it (a child process, with a timeout since some failures are
 * hangs), and the error contract every failed run keeps: nothing on stdout, exactly one JSON error
 * `{"error":{"code","message"}}` on stderr, the exit status that goes with the code, no stack trace.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DIST } from './modelFolders';

export const CLI = path.join(DIST, 'cli.js');

export interface CliRun {
  /** null when the process was killed (by the timeout, or a signal). */
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time in milliseconds. */
  ms: number;
  /** The timeout killed it. */
  timedOut: boolean;
}

export interface CliOptions {
  /** Default: this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Kill after this long (default 30 s). */
  timeoutMs?: number;
  /** Another copy of cli.js to run. */
  cliPath?: string;
  /** Run as this user and group (only as root). */
  uid?: number;
  gid?: number;
}

/** Runs the CLI and waits (blocks this process: not with a server in this process that the CLI talks to). */
export function cliSync(args: string[], options: CliOptions = {}): CliRun {
  const { env = process.env, timeoutMs = 30_000, cliPath = CLI } = options;
  const started = Date.now();
  const run = spawnSync(process.execPath, [cliPath, ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    env,
    ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid ?? options.uid }),
  });
  const ms = Date.now() - started;
  return { status: run.status, signal: run.signal, stdout: run.stdout, stderr: run.stderr, ms, timedOut: run.signal !== null && ms >= timeoutMs };
}

/** Runs the CLI without blocking this process (a loopback server here keeps answering). */
export function cli(args: string[], options: CliOptions = {}): Promise<CliRun> {
  const { env = process.env, timeoutMs = 30_000, cliPath = CLI } = options;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid ?? options.uid }),
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, ms: Date.now() - started, timedOut });
    });
  });
}

/** The exit status the CLI gives an error code: 2 for the user's input or model, 1 for the rest. */
export function exitStatusFor(code: string): number {
  return ['BAD_INPUT', 'MODEL_NOT_FOUND', 'MODEL_CORRUPT', 'INPUT_TOO_LONG'].includes(code) ? 2 : 1;
}

/** Lines of stderr that are the JSON error (progress lines may come before it). */
export function parseJsonError(stderr: string): { code: string; message: string } {
  const lines = stderr.split('\n').filter((line) => line.startsWith('{'));
  assert.equal(lines.length, 1, `exactly one JSON line on stderr: ${stderr}`);
  const parsed = JSON.parse(lines[0]!) as { error: { code: string; message: string } };
  assert.deepEqual(Object.keys(parsed.error).sort(), ['code', 'message']);
  return parsed.error;
}

/**
 * Asserts a failed run printed exactly one JSON error with this code (and a message matching), no stack trace,
 * nothing on stdout, and this exit status. `onlyError`: stderr is that one line and nothing else (default true).
 */
export function assertError(run: CliRun, status: number, code: string, message?: RegExp, onlyError = true): void {
  assert.ok(!run.timedOut, `no hang (killed after ${run.ms} ms; stderr: ${run.stderr})`);
  assert.equal(run.status, status, `exit status (stderr: ${run.stderr})`);
  assert.equal(run.stdout, '');
  const error = onlyError ? (JSON.parse(run.stderr) as { error: { code: string; message: string } }).error : parseJsonError(run.stderr);
  if (onlyError) assert.deepEqual(Object.keys(error).sort(), ['code', 'message']);
  assert.equal(error.code, code, error.message);
  if (message) assert.match(error.message, message);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
}

/** CPU time (ms) of a Linux process so far, from /proc; undefined elsewhere (or once it is gone). */
export function cpuMsOf(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in USER_HZ (100)
  } catch {
    return undefined;
  }
}
