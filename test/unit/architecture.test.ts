/**
 * Rules that keep the extension host responsive: onnxruntime-node is imported by exactly one file
 * (runtime/ort.ts), which only the worker bundle contains; the engine never imports `vscode`. And a rule that
 * keeps the engine's layers apart: the runtime (worker threads, their protocol, sessions) knows no task; tasks
 * reach the worker only through the method registry (src/engine/methods.ts).
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { DIST, REPO_ROOT } from './helpers/modelFolders';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(dir, f));
}

const requiresOrt = /require\(["']onnxruntime-node["']\)/;
const importsOrt = /from\s+['"]onnxruntime-node['"]|require\(['"]onnxruntime-node['"]\)|import\(['"]onnxruntime-node['"]\)/;

describe('architecture', () => {
  test('only src/engine/runtime/ort.ts imports onnxruntime-node', () => {
    const importers = sourceFiles(path.join(REPO_ROOT, 'src'))
      .filter((file) => importsOrt.test(readFileSync(file, 'utf8')))
      .map((file) => path.relative(REPO_ROOT, file));
    assert.deepEqual(importers, [path.join('src', 'engine', 'runtime', 'ort.ts')]);
  });

  test('only the worker bundle requires onnxruntime-node (the CLI and the extension do not)', () => {
    assert.match(readFileSync(path.join(DIST, 'worker.js'), 'utf8'), requiresOrt);
    assert.doesNotMatch(readFileSync(path.join(DIST, 'cli.js'), 'utf8'), requiresOrt);
    let extension: string | undefined;
    try {
      extension = readFileSync(path.join(DIST, 'extension.js'), 'utf8');
    } catch {
      // no extension entry yet
    }
    if (extension !== undefined) assert.doesNotMatch(extension, requiresOrt);
  });

  test('nothing in src/engine imports vscode', () => {
    const offenders = sourceFiles(path.join(REPO_ROOT, 'src', 'engine')).filter((file) =>
      /from\s+['"]vscode['"]|require\(['"]vscode['"]\)/.test(readFileSync(file, 'utf8')),
    );
    assert.deepEqual(offenders, []);
  });

  test('the runtime imports no task, scoreboard or sense code (the method registry joins them)', () => {
    const runtime = path.join(REPO_ROOT, 'src', 'engine', 'runtime');
    const upward = /from\s+['"]\.\.\/(tasks|eval|senses|methods|worker|engine)\b[^'"]*['"]/g;
    const offenders = sourceFiles(runtime).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(upward)].map((m) => `${path.relative(REPO_ROOT, file)}: ${m[0]}`),
    );
    assert.deepEqual(offenders, []);
  });
});
