// The slow masked LM of the e2e cancel step (test/e2e/cancelSteps.mjs: 10,000 chained 512x512 MatMuls, written on
// the fly) timed through `lm-lens fill`: wall time and CPU of one run, the figure README quotes beside that step.
// Usage: node test/bench/slowFill.mjs [--steps N]   (`npm run build` first)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { requireTs } from '../requireTs.mjs';
import { root } from './common.mjs';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '10000' } } });
const dir = mkdtempSync(path.join(os.tmpdir(), 'lm-lens-slow-'));
try {
  const { writeSlowBert } = await requireTs(root, path.join(dir, 'helpers.cjs'), {
    './test/unit/helpers/lmModels': ['writeSlowBert'],
  });
  const models = path.join(dir, 'models');
  writeSlowBert(models, 'slow-bert', Number(values.steps));
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [path.join(root, 'dist', 'cli.js'), '--only-models-dir', models, 'fill', '--model',
    'slow-bert', '--text', 'The [MASK] barked at the slow model.'], { encoding: 'utf8' });
  const wallS = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`lm-lens fill: exit ${r.status}: ${r.stderr.trim().slice(-400)}`);
  const cpuS = childCpuSeconds();
  const top = JSON.parse(r.stdout).masks[0].predictions[0];
  console.log(JSON.stringify({ steps: Number(values.steps), wallSeconds: +wallS.toFixed(1), cpuSeconds: cpuS, top: top.token }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** CPU seconds of this process' waited-for children: cutime + cstime of /proc/self/stat (fields 16 and 17, in clock
 * ticks of 1/100 s on Linux). */
function childCpuSeconds() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return +((Number(fields[13]) + Number(fields[14])) / 100).toFixed(1);
}
