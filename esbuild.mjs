// Builds LM Lens with esbuild (type-checking is a separate step: `npm run typecheck`).
//
//   node esbuild.mjs           dist/extension.js, dist/worker.js, dist/cli.js, dist/webview/<name>.js
//   node esbuild.mjs --tests   the same, plus out/test/unit/*.test.js, out/test/robustness/*.test.js and
//                              out/fixtures/*.js for `node --test`
//
// onnxruntime-node loads a native binary at run time, so it stays external (and must ship in the package);
// `vscode` is provided by the extension host.
import * as esbuild from 'esbuild';
import { chmodSync, existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';

const root = path.dirname(new URL(import.meta.url).pathname);
const at = (...parts) => path.join(root, ...parts);
const withTests = process.argv.includes('--tests');

const nodeCommon = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  external: ['vscode', 'onnxruntime-node'],
};

/** Recursively lists files under `dir` whose name ends with `suffix` (empty when `dir` is missing). */
function filesUnder(dir, suffix) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((rel) => rel.endsWith(suffix))
    .map((rel) => path.join(dir, rel))
    .sort();
}

function appBuilds() {
  const builds = [];
  const nodeEntries = [
    { src: 'src/extension.ts', out: 'dist/extension.js' },
    { src: 'src/engine/worker.ts', out: 'dist/worker.js' },
    { src: 'src/cli.ts', out: 'dist/cli.js', banner: '#!/usr/bin/env node' },
    { src: 'src/engine/index.ts', out: 'dist/engine.js' }, // the engine as a library for scripts and benchmarks
  ];
  for (const entry of nodeEntries) {
    if (!existsSync(at(entry.src))) continue; // e.g. the extension before it is written
    builds.push({
      ...nodeCommon,
      entryPoints: [at(entry.src)],
      outfile: at(entry.out),
      ...(entry.banner ? { banner: { js: entry.banner } } : {}),
    });
  }

  const webviewDir = at('webview');
  const webviews = existsSync(webviewDir)
    ? readdirSync(webviewDir, { withFileTypes: true })
        .filter((d) => d.isDirectory() && existsSync(path.join(webviewDir, d.name, 'main.ts')))
        .map((d) => d.name)
    : [];
  for (const name of webviews) {
    builds.push({
      bundle: true,
      platform: 'browser',
      format: 'iife',
      target: 'es2022',
      sourcemap: 'linked',
      logLevel: 'warning',
      entryPoints: [path.join(webviewDir, name, 'main.ts')],
      outfile: at('dist', 'webview', `${name}.js`),
    });
  }
  return builds;
}

function testBuilds() {
  const unitDir = at('test', 'unit');
  const fixtureDir = path.join(unitDir, 'fixtures');
  const tests = filesUnder(unitDir, '.test.ts').filter((f) => !f.startsWith(fixtureDir + path.sep));
  // Flatten nested tests (a/b.test.ts -> a.b.test.js) so `node --test out/test/unit/` finds them all.
  const entryPoints = tests.map((file) => ({
    in: file,
    out: path.relative(unitDir, file).replace(/\.ts$/, '').split(path.sep).join('.'),
  }));
  const builds = [];
  if (entryPoints.length > 0) {
    // transformers.js (a dev dependency, the reference some tests compare with) loads its own native modules
    // from its folder: it is imported from node_modules at run time, not bundled
    builds.push({ ...nodeCommon, entryPoints, outdir: at('out', 'test', 'unit'), external: [...nodeCommon.external, '@huggingface/transformers'] });
  }
  // The robustness suite (test/robustness/*.test.ts, helpers shared with the unit tests): out/test/robustness/.
  const robustness = filesUnder(at('test', 'robustness'), '.test.ts');
  if (robustness.length > 0) {
    builds.push({ ...nodeCommon, entryPoints: robustness, outdir: at('out', 'test', 'robustness') });
  }
  // Test-only entry points (e.g. a worker with a method that crashes): test/unit/fixtures/*.ts is built
  // to out/fixtures/, outside out/test/unit, so the runner never mistakes them for tests.
  const fixtures = filesUnder(fixtureDir, '.ts').filter((f) => !f.endsWith('.d.ts'));
  if (fixtures.length > 0) {
    builds.push({
      ...nodeCommon,
      entryPoints: fixtures,
      outbase: fixtureDir,
      outdir: at('out', 'fixtures'),
    });
  }
  return builds;
}

const builds = appBuilds();
if (withTests) {
  rmSync(at('out'), { recursive: true, force: true });
  builds.push(...testBuilds());
}
await Promise.all(builds.map((options) => esbuild.build(options)));
if (existsSync(at('dist', 'cli.js'))) chmodSync(at('dist', 'cli.js'), 0o755);
console.log(`esbuild: ${builds.length} bundle(s) built${withTests ? ' (with tests)' : ''}`);
