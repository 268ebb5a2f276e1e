// What the benchmarks that start their own Engine (gc, firstGeneration, firstHover, ghostText) share: the repository
// root, their command line (a models folder, a causal LM's id, runs, --json), an Engine over that folder, built from
// dist/ (`npm run build`), and runs in fresh processes.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

/** The shared options (`--models-dir`, `--gpt2`, `--runs`, `--json`) with `runs` defaulting to `runs`, plus `extra`. */
export function benchOptions(runs, extra = {}) {
  return parseArgs({
    options: {
      'models-dir': { type: 'string', default: path.join(root, 'media', 'models') },
      gpt2: { type: 'string', default: 'gpt2-mini' },
      runs: { type: 'string', default: String(runs) },
      json: { type: 'boolean', default: false },
      ...extra,
    },
  }).values;
}

/** An Engine on one thread over `modelsDir` (and, when given, its own cache folder of rewritten graphs). */
export function benchEngine(modelsDir, cacheDir) {
  const { Engine, modelDirectories } = require(path.join(root, 'dist', 'engine.js'));
  return new Engine({
    modelDirectories: modelDirectories(path.resolve(modelsDir)),
    workerPath: path.join(root, 'dist', 'worker.js'),
    threads: 1,
    ...(cacheDir ? { cacheDir } : {}),
  });
}

/**
 * Runs `fn` and measures it: wall milliseconds and, for the whole process (the Engine's worker thread included), the
 * pages it touched first (minor page faults) and its user / system CPU milliseconds. A cold start's system time is
 * mostly those faults; on a virtual machine each can cost tens of microseconds (2026-12-08: ~25 us on this project's).
 */
export async function measured(fn) {
  const before = process.resourceUsage();
  const started = performance.now();
  const value = await fn();
  const ms = performance.now() - started;
  const after = process.resourceUsage();
  return {
    value,
    ms,
    faults: after.minorPageFault - before.minorPageFault,
    userMs: (after.userCPUTime - before.userCPUTime) / 1000,
    sysMs: (after.systemCPUTime - before.systemCPUTime) / 1000,
  };
}

/** The line under a cold start's median: what `measured` saw (keys `<prefix>Faults`, `UserMs`, `SysMs`), as medians. */
export function coldStartLine(stats, prefix) {
  const median = (key) => Math.round(stats(`${prefix}${key}`).median).toLocaleString('en-US');
  return `    ${median('Faults')} pages first touched, CPU ${median('UserMs')} ms user + ${median('SysMs')} ms system (medians)`;
}

/**
 * `runs` fresh Node processes of `script` (an import.meta.url) with `--child` and this process's arguments; each
 * prints one JSON line last. Returns the parsed lines and, per numeric key of them, its median, min and max.
 */
export function freshProcessRuns(script, runs) {
  const out = [];
  for (let i = 0; i < runs; i++) {
    const child = spawnSync(process.execPath, [new URL(script).pathname, '--child', ...process.argv.slice(2)], { encoding: 'utf8' });
    if (child.status !== 0) {
      console.error(child.stderr || child.stdout);
      process.exit(1);
    }
    out.push(JSON.parse(child.stdout.trim().split('\n').pop()));
  }
  const stats = (key) => {
    const xs = out.map((r) => r[key]).sort((a, b) => a - b);
    return { median: xs[Math.floor(xs.length / 2)], min: xs[0], max: xs[xs.length - 1] };
  };
  return { runs: out, stats };
}
