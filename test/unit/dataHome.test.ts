/**
 * An unusable LM Lens home is refused up front (issue 12): `LM_LENS_HOME=/proc/nope` made `sense` spin at 100% CPU
 * (Node 20's recursive mkdir loops under /proc); a file or a read-only folder failed late. Now every command
 * checks the home first and add-model its models folder: BAD_INPUT, exit 2, nothing created.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { checkWritableFolder } from '../../src/engine/folders';
import { checkUserDataDir, installModel } from '../../src/engine/modelInstall';
import { CLI, assertError, cli } from './helpers/cli';
import { lensError } from './helpers/lensError';
import { tempDir } from './helpers/modelFolders';

const linux = process.platform === 'linux';
const root = process.getuid?.() === 0;
const NOBODY = 65534;

/** Whether another user (nobody) can run `file`: every folder above it searchable by others, the file readable. */
function othersCanRead(file: string): boolean {
  try {
    if ((statSync(file).mode & 0o004) === 0) return false;
    for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
      if ((statSync(dir).mode & 0o001) === 0) return false;
      if (dir === path.dirname(dir)) return true;
    }
  } catch {
    return false; // no dist/cli.js: skipped here, the other CLI tests fail on it
  }
}

describe('checkWritableFolder', () => {
  const temp = tempDir('lm-lens-home-');
  after(() => temp.remove());

  test('/proc and /sys are refused by path and by filesystem, without creating anything', { skip: !linux && 'Linux paths' }, async () => {
    await assert.rejects(checkWritableFolder('/proc/nope', 'LM_LENS_HOME=/proc/nope'), lensError('BAD_INPUT', /LM_LENS_HOME=\/proc\/nope .*\/proc is a kernel pseudo-filesystem/));
    await assert.rejects(checkWritableFolder('/sys/nope/deeper', 'X'), lensError('BAD_INPUT', /\/sys is a kernel pseudo-filesystem/));
    await assert.rejects(checkWritableFolder('/proc/self/../nope', 'X'), lensError('BAD_INPUT', /pseudo-filesystem/));
    assert.equal(existsSync('/proc/nope'), false);
  });

  test('a file, or a file in the path, is refused', async () => {
    const file = path.join(temp.dir, 'a-file');
    writeFileSync(file, 'x');
    await assert.rejects(checkWritableFolder(file, 'H'), lensError('BAD_INPUT', /a-file is not a folder/));
    await assert.rejects(checkWritableFolder(path.join(file, 'sub', 'home'), 'H'), lensError('BAD_INPUT', /is a file, not a folder/));
  });

  test('an existing folder, or one that can be created, passes and nothing is created', async () => {
    await checkWritableFolder(temp.dir, 'H');
    const fresh = path.join(temp.dir, 'not', 'yet', 'there');
    await checkWritableFolder(fresh, 'H');
    assert.equal(existsSync(path.join(temp.dir, 'not')), false);
  });

  test('a read-only folder is refused (as a non-root user: root writes anywhere)', { skip: root && 'root: see the CLI test, run as nobody' }, async () => {
    const readOnly = path.join(temp.dir, 'read-only');
    mkdirSync(readOnly);
    chmodSync(readOnly, 0o555);
    await assert.rejects(checkWritableFolder(path.join(readOnly, 'home'), 'H'), lensError('BAD_INPUT', /not writable \(EACCES\)/));
  });

  test('checkUserDataDir names the setting and says to change LM_LENS_HOME', { skip: !linux && 'Linux paths' }, async () => {
    await assert.rejects(checkUserDataDir({ LM_LENS_HOME: '/proc/nope' }), lensError('BAD_INPUT', /^LM_LENS_HOME=\/proc\/nope .*Set LM_LENS_HOME/));
    await assert.rejects(checkUserDataDir({ XDG_DATA_HOME: '/sys/x' }), lensError('BAD_INPUT', /^XDG_DATA_HOME=\/sys\/x \(\/sys\/x\/lm-lens\)/));
    await checkUserDataDir({ LM_LENS_HOME: path.join(temp.dir, 'home') });
  });

  test('installModel checks its models folder before any request', { skip: !linux && 'Linux paths' }, async () => {
    // port 9 (discard) on loopback: were a request made, the error would be NETWORK, not BAD_INPUT
    const install = installModel({ repo: 'Test/model', endpoint: 'http://127.0.0.1:9', destRoot: '/proc/nope/models', retries: 0 });
    await assert.rejects(install, lensError('BAD_INPUT', /The models folder \/proc\/nope\/models .*pseudo-filesystem/));
  });
});

describe('the CLI with an unusable home', { skip: !linux && 'Linux paths' }, () => {
  const temp = tempDir('lm-lens-home-cli-');
  after(() => temp.remove());
  const env = (home: string): NodeJS.ProcessEnv => ({ ...process.env, LM_LENS_HOME: home });
  // A spinning command is killed after 20 s: assertError then fails on the timeout, not on the status.
  const timeoutMs = 20_000;

  for (const args of [['models'], ['sense', '--text', 'the river bank', '--word', 'bank'], ['add-model', 'Test/model', '--endpoint', 'http://127.0.0.1:9']]) {
    test(`LM_LENS_HOME=/proc/nope ${args[0]}: BAD_INPUT, exit 2, at once`, async () => {
      const run = await cli(args, { env: env('/proc/nope'), timeoutMs });
      assertError(run, 2, 'BAD_INPUT', /^LM_LENS_HOME=\/proc\/nope cannot hold LM Lens's data: \/proc is a kernel pseudo-filesystem/);
    });
  }

  test('a home that is a file, or under one: BAD_INPUT, exit 2', async () => {
    const file = path.join(temp.dir, 'home-file');
    writeFileSync(file, '');
    assertError(await cli(['models'], { env: env(file), timeoutMs }), 2, 'BAD_INPUT', /home-file is not a folder/);
    assertError(await cli(['models'], { env: env(path.join(file, 'x')), timeoutMs }), 2, 'BAD_INPUT', /is a file, not a folder/);
  });

  test('add-model --dir under /proc: BAD_INPUT naming the models folder', async () => {
    const run = await cli(['add-model', 'Test/model', '--endpoint', 'http://127.0.0.1:9', '--dir', '/proc/nope'], { timeoutMs });
    assertError(run, 2, 'BAD_INPUT', /The models folder \/proc\/nope cannot hold/);
  });

  // a checkout in a private folder (mktemp -d is 0700) keeps nobody from reading the CLI: nothing to test then
  const nobodyBlocked = root && !othersCanRead(CLI) && `nobody cannot read ${CLI} (a private folder above it)`;
  test('a read-only home: BAD_INPUT, exit 2 (run as nobody when this is root)', { skip: nobodyBlocked }, async () => {
    chmodSync(temp.dir, 0o755); // nobody must reach it
    const readOnly = path.join(temp.dir, 'read-only');
    mkdirSync(readOnly);
    chmodSync(readOnly, 0o555);
    if (!root) {
      assertError(await cli(['models'], { env: env(path.join(readOnly, 'home')), timeoutMs }), 2, 'BAD_INPUT', /not writable/);
      return;
    }
    const run = await cli(['models'], { env: { PATH: process.env['PATH'], LM_LENS_HOME: path.join(readOnly, 'home') }, timeoutMs, uid: NOBODY });
    assertError(run, 2, 'BAD_INPUT', /read-only, where it would be created, is not writable \(EACCES\)/);
  });
});
