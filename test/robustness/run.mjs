// Runs the robustness suite (out/test/robustness/*.test.js, built by `node esbuild.mjs --tests`) under a
// deadline and prints how many cases ran, passed and failed, and how long it took. Exit status: the runner's,
// or 1 when the deadline killed it.
import { spawn } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
// The suite finishes in well under two minutes on an idle machine; a hang must not hold CI. ROBUSTNESS_DEADLINE_S
// gives a loaded machine more time.
const DEADLINE_MS = Number(process.env.ROBUSTNESS_DEADLINE_S || 120) * 1000;
const started = Date.now();
const child = spawn(process.execPath, ['--test', '--test-reporter=tap', path.join(root, 'out', 'test', 'robustness')], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
});
let tap = '';
child.stdout.on('data', (chunk) => {
  tap += chunk;
  process.stdout.write(chunk);
});
const killer = setTimeout(() => child.kill('SIGKILL'), DEADLINE_MS);
child.on('close', (code, signal) => {
  clearTimeout(killer);
  const count = (name) => Number((tap.match(new RegExp(`^# ${name} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const summary = `robustness: ${count('tests')} cases, ${count('pass')} passed, ${count('fail')} failed, ${count('skipped')} skipped in ${seconds} s`;
  console.log(signal ? `${summary} (killed at the ${DEADLINE_MS / 1000} s deadline)` : summary);
  process.exitCode = signal ? 1 : (code ?? 1);
});
