// Does inference block the caller's event loop? Runs about 2 seconds of ELMo inference twice and measures the
// event-loop delay of this (the "extension host") thread with perf_hooks.monitorEventLoopDelay:
//   1. through the Engine, whose worker thread runs onnxruntime-node (what the extension does);
//   2. with onnxruntime-node on this thread (what the extension must not do), for comparison.
// Also times loading the extension bundle's module graph (what activation pays) and checks ORT is not loaded.
// Usage: npm run build && node test/bench/lag.mjs [--seconds 2] [--models-dir DIR]
import { createRequire } from 'node:module';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const { values } = parseArgs({ options: { seconds: { type: 'string', default: '2' }, 'models-dir': { type: 'string' } } });
const seconds = Number(values.seconds);
const modelsDir = values['models-dir'] ?? path.join(root, 'media', 'models');

const TEXT = 'We sat on the bank of the river and watched the boats go by while the money stayed in the bank. '.repeat(6);

function ms(ns) {
  return (ns / 1e6).toFixed(2);
}

async function measure(label, work) {
  const h = monitorEventLoopDelay({ resolution: 5 });
  // a 1 ms timer stands in for the other extensions sharing the extension host
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  h.enable();
  const t0 = performance.now();
  const runs = await work();
  const wall = performance.now() - t0;
  h.disable();
  clearInterval(timer);
  return { label, runs, wall_ms: wall.toFixed(0), timer_ticks: ticks, lag_p50_ms: ms(h.percentile(50)),
    lag_p99_ms: ms(h.percentile(99)), lag_max_ms: ms(h.max) };
}

// --- activation cost: requiring the extension bundle (vscode stubbed) must not pull in onnxruntime-node
const Module = require('node:module');
const realLoad = Module._load;
// a recursive stand-in for the vscode module: every property, call and construction gives the stand-in again
const NAMESPACES = ['window', 'workspace', 'languages', 'commands', 'extensions', 'env', 'Uri', 'EventEmitter',
  'Disposable', 'MarkdownString', 'Hover', 'Range', 'Position', 'Selection', 'CancellationTokenSource',
  'ProgressLocation', 'ViewColumn', 'StatusBarAlignment', 'ThemeColor', 'ThemeIcon', 'InlineCompletionItem',
  'WorkspaceEdit', 'TextEdit', 'QuickPickItemKind', 'ConfigurationTarget', 'LogLevel', 'l10n'];
const stub = new Proxy(function () {}, {
  get: (_t, key) => (key === 'then' ? undefined : key === Symbol.toPrimitive ? () => '' : stub),
  apply: () => stub,
  construct: () => stub,
  ownKeys: () => [...NAMESPACES, 'prototype'],
  getOwnPropertyDescriptor: (_t, key) => (key === 'prototype'
    ? { value: stub, writable: true, enumerable: false, configurable: false }
    : { value: stub, writable: true, enumerable: true, configurable: true }),
});
Module._load = function (request, ...rest) {
  if (request === 'vscode') return stub;
  return realLoad.call(this, request, ...rest);
};
const a0 = performance.now();
require(path.join(root, 'dist', 'extension.js'));
const requireMs = performance.now() - a0;
Module._load = realLoad;
const ortLoadedByExtension = Object.keys(require.cache).some((k) => k.includes(`${path.sep}onnxruntime-node${path.sep}`));

const { Engine, modelDirectories } = require(path.join(root, 'dist', 'engine.js'));
const engine = new Engine({ modelDirectories: modelDirectories(modelsDir), workerPath: path.join(root, 'dist', 'worker.js') });
const models = await engine.listModels();
const elmo = models.find((m) => m.kind === 'bilm');
if (!elmo) {
  console.error(`no ELMo (bilm) model in ${modelsDir}`);
  process.exit(2);
}
await engine.embed({ text: TEXT, word: 'money', model: elmo.id }); // warm: worker start + session load

const viaWorker = await measure('worker (Engine.embed)', async () => {
  let n = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    await engine.embed({ text: TEXT, word: 'money', model: elmo.id });
    n++;
  }
  return n;
});
await engine.dispose();

// --- the same model on this thread
const ort = require('onnxruntime-node');
const session = await ort.InferenceSession.create(path.join(elmo.path, 'onnx', 'model.onnx'), { intraOpNumThreads: 1 });
const T = 128;
const chars = new ort.Tensor('int64', new BigInt64Array(T * 50).fill(5n), [1, T, 50]);
const mask = new ort.Tensor('int64', new BigInt64Array(T).fill(1n), [1, T]);
await session.run({ char_ids: chars, attention_mask: mask });
const onThread = await measure('main thread (session.run here)', async () => {
  let n = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    await session.run({ char_ids: chars, attention_mask: mask });
    n++;
  }
  return n;
});

console.log(JSON.stringify({
  model: elmo.id,
  activation: { require_extension_bundle_ms: requireMs.toFixed(1), onnxruntime_loaded_by_extension: ortLoadedByExtension },
  event_loop: [viaWorker, onThread],
}, null, 1));
console.log('\n| where inference runs | runs | wall ms | 1 ms timer ticks | lag p50 ms | lag p99 ms | lag max ms |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const r of [viaWorker, onThread]) {
  console.log(`| ${r.label} | ${r.runs} | ${r.wall_ms} | ${r.timer_ticks} | ${r.lag_p50_ms} | ${r.lag_p99_ms} | ${r.lag_max_ms} |`);
}
