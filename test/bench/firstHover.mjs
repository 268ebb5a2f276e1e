// The first hover in a fresh process (a benchmark that prints figures; not a test): what a user waits for the first
// hover after VS Code starts. Each run is a new Node process: the Engine's worker starts and the hover's request
// (`senses.sense` with details, as the hover provider asks it) loads ONNX Runtime, ELMo, the tagger head, WordNet,
// GloVe and the sense data; a second hover of another word follows for comparison. Under the first hover's median:
// the pages it touched first and its CPU time, user and system (on a virtual machine the faults can dominate).
// Usage: npm run build && node test/bench/firstHover.mjs [--models-dir DIR] [--elmo ID] [--runs 7] [--json]
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { benchEngine, benchOptions, coldStartLine, freshProcessRuns, measured } from './common.mjs';

const values = benchOptions(7, { elmo: { type: 'string', default: 'elmo-mini' }, child: { type: 'boolean', default: false } });
const TEXT = 'She paid the money into her bank account before the river rose over the bank.';

if (values.child) {
  const engine = benchEngine(values['models-dir']);
  const hover = (word, occurrence) => engine.senses.sense({ text: TEXT, word, occurrence, details: true }, undefined, { elmo: values.elmo });
  const first = await measured(() => hover('bank', 1));
  const started = performance.now();
  const second = await hover('river', 1);
  const secondMs = performance.now() - started;
  console.log(JSON.stringify({
    first: first.ms,
    firstFaults: first.faults,
    firstUserMs: first.userMs,
    firstSysMs: first.sysMs,
    second: secondMs,
    senses: [first.value.senseKey, second.senseKey],
  }));
  await engine.dispose();
  process.exit(0);
}

const { runs, stats } = freshProcessRuns(import.meta.url, Number(values.runs));
const result = { elmo: values.elmo, modelsDir: path.resolve(values['models-dir']), runs: runs.length, senses: runs[0].senses, firstMs: stats('first'), secondMs: stats('second'), firstFaults: stats('firstFaults'), firstUserMs: stats('firstUserMs'), firstSysMs: stats('firstSysMs') };
if (values.json) console.log(JSON.stringify(result));
else {
  console.log(`${result.elmo} (${result.modelsDir}), ${result.runs} fresh processes; senses ${result.senses.join(', ')}`);
  console.log(`  first hover  median ${result.firstMs.median.toFixed(0)} ms (min ${result.firstMs.min.toFixed(0)}, max ${result.firstMs.max.toFixed(0)})`);
  console.log(coldStartLine(stats, 'first'));
  console.log(`  second hover median ${result.secondMs.median.toFixed(0)} ms (min ${result.secondMs.min.toFixed(0)}, max ${result.secondMs.max.toFixed(0)})`);
}
