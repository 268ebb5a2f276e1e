/**
 * ONNX Runtime stays quiet and writes nothing of its own (issue 12): its warnings no longer come before the CLI's
 * JSON error on stderr, and its telemetry files (a device id, an event database under
 * $XDG_CACHE_HOME/Microsoft/DeveloperTools) are not written. Through dist/cli.js, with a graph that makes ONNX
 * Runtime warn (an initializer no node uses) and a temporary XDG_CACHE_HOME.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { disableOrtTelemetry } from '../../src/engine/runtime/client';
import { assertError, cli } from './helpers/cli';
import { writeCountingGpt2 } from './helpers/lmModels';
import { tempDir } from './helpers/modelFolders';

describe('ONNX Runtime: no log lines on stderr, no telemetry files', () => {
  const models = tempDir();
  const cache = tempDir('lm-lens-xdg-cache-');
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: cache.dir };
  delete env['ORT_DISABLE_TELEMETRY'];
  const args = (...rest: string[]): string[] => ['score', '--only-models-dir', models.dir, '--text', '1234', ...rest];

  before(() => {
    writeCountingGpt2(models.dir, 'warns', {}, { unusedInitializer: true });
    writeCountingGpt2(models.dir, 'warns-one-position', { n_positions: 1 }, { unusedInitializer: true });
  });
  after(() => {
    models.remove();
    cache.remove();
  });

  test('a graph ONNX Runtime warns about: the answer on stdout, nothing on stderr, nothing in the cache folder', async () => {
    const run = await cli(args('--model', 'warns'), { env });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr, '', 'no ONNX Runtime warning');
    assert.ok(Number.isFinite((JSON.parse(run.stdout) as { perplexity: number }).perplexity));
    assert.deepEqual(readdirSync(cache.dir, { recursive: true }), [], 'no ~/.cache/Microsoft/DeveloperTools');
  });

  test('a failing command on such a graph: stderr is the JSON error alone', async () => {
    assertError(await cli(args('--model', 'warns-one-position'), { env }), 2, 'BAD_INPUT', /context of 1 token/);
  });

  test('disableOrtTelemetry sets ORT_DISABLE_TELEMETRY=1 and keeps a value the user set', () => {
    const fresh: NodeJS.ProcessEnv = {};
    disableOrtTelemetry(fresh);
    assert.equal(fresh['ORT_DISABLE_TELEMETRY'], '1');
    const chosen: NodeJS.ProcessEnv = { ORT_DISABLE_TELEMETRY: '0' };
    disableOrtTelemetry(chosen);
    assert.equal(chosen['ORT_DISABLE_TELEMETRY'], '0');
  });
});
