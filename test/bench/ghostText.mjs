// What token healing costs a ghost-text request (a benchmark that prints a table; not a test): the request the
// inline provider sends (16 tokens, stop at a newline, token probabilities, repetition penalty 1.3), with and
// without `heal`, interleaved prompt by prompt, on prompts that end half-way through a word, after a space and
// right after a word. Medians of --runs rounds after one warm-up. The first healed request of an engine also builds
// the tokenizer's table of token texts (tokenTexts): "first healed request" is that request's extra time over the
// median healed one, on a fresh engine whose model is already loaded. Healed and plain requests generate different
// tokens (a healed one re-writes the word's tokens first and may stop sooner), so compare time per token.
// Usage: npm run build && node test/bench/ghostText.mjs [--models-dir DIR] [--gpt2 ID] [--runs 20] [--json]
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { benchEngine, benchOptions } from './common.mjs';

const values = benchOptions(20);
const RUNS = Number(values.runs);

const PROMPTS = {
  'half-way through a word': 'We wrote a letter to the President of the Uni',
  'after a space': 'She drank a cup of hot coffee before ',
  'right after a word': 'The committee will meet again next',
};
const request = (text, heal) => ({ text, maxTokens: 16, stop: ['\n'], repetitionPenalty: 1.3, tokenProbs: true, heal, model: values.gpt2 });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timed(engine, text, heal) {
  const t = performance.now();
  const result = await engine.generate(request(text, heal));
  return { ms: performance.now() - t, tokens: result.tokens };
}

const newEngine = () => benchEngine(values['models-dir']);

// the first healed request on a fresh engine (the model loaded by a plain request first)
const cold = newEngine();
await timed(cold, PROMPTS['after a space'], false);
const first = await timed(cold, PROMPTS['after a space'], true);
const afterFirst = [];
for (let i = 0; i < 5; i++) afterFirst.push((await timed(cold, PROMPTS['after a space'], true)).ms);
await cold.dispose();

const engine = newEngine();
const rows = [];
for (const [name, text] of Object.entries(PROMPTS)) {
  await timed(engine, text, false);
  await timed(engine, text, true);
  const plain = [];
  const healed = [];
  for (let i = 0; i < RUNS; i++) {
    plain.push(await timed(engine, text, false));
    healed.push(await timed(engine, text, true));
  }
  // greedy: every run of a prompt generates the same tokens, so the token counts are those of any run
  rows.push({
    prompt: name,
    plainMs: median(plain.map((r) => r.ms)),
    plainTokens: plain[0].tokens,
    healedMs: median(healed.map((r) => r.ms)),
    healedTokens: healed[0].tokens,
  });
}
await engine.dispose();

const out = {
  model: values.gpt2,
  runs: RUNS,
  load: os.loadavg()[0],
  firstHealedExtraMs: first.ms - median(afterFirst),
  rows,
};
if (values.json) {
  console.log(JSON.stringify(out, null, 1));
} else {
  console.log(`ghost-text requests on ${out.model}, medians of ${RUNS} interleaved runs (load average ${out.load.toFixed(2)})`);
  console.log('| prompt ends | as typed: ms (tokens) | ms per token | token-healed: ms (tokens) | ms per token |');
  console.log('|---|---:|---:|---:|---:|');
  const perToken = (ms, n) => (n ? (ms / n).toFixed(2) : '-');
  for (const r of rows) {
    console.log(`| ${r.prompt} | ${r.plainMs.toFixed(1)} (${r.plainTokens}) | ${perToken(r.plainMs, r.plainTokens)} | ` +
      `${r.healedMs.toFixed(1)} (${r.healedTokens}) | ${perToken(r.healedMs, r.healedTokens)} |`);
  }
  console.log(`first healed request of an engine (building the token-text table): +${out.firstHealedExtraMs.toFixed(1)} ms`);
}
