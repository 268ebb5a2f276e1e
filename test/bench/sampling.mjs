// Continue Text's sampling settings, compared on what a reader of the continuations would notice (a benchmark that
// prints a table; not a test). For each setting, the causal LM continues prompts cut from a text it never trained on
// (the first six words of each sentence of test/fixtures/eval/modern-heldout.txt), once per seed, as Continue Text
// asks (token healing, at least 16 tokens before an end of text), and the table reports
//   - common words: the share of the continuations' words found in a list of 41k common English words (GloVe-100d's
//     vocabulary, media/models/glove-100d/vocab.txt): a small model sampled from the tail of its distribution spells
//     words that do not exist ("voteers", "Toppia");
//   - repeated 3-grams: the share of a continuation's word 3-grams it already used (loops);
//   - distinct across seeds: the share of distinct word 2-grams among the continuations of one prompt (1: every seed
//     says something else; 1 / seeds: all say the same, as greedy decoding does);
//   - log-prob: the mean natural-log probability of each chosen token under the model itself, before the setting's
//     cut (how far into the tail the draws went).
// No single figure decides: the first two reward playing safe, the third rewards variety; read them together.
// Usage: npm run build && node test/bench/sampling.mjs [--models-dir DIR] [--gpt2 ID] [--seeds 6] [--tokens 48]
//          [--prompts 24] [--penalty 1.3] [--settings "T0.8,p0.95;T0.7,k40;..."] [--json]
//   A setting: T temperature (0 greedy), k top-k, p top-p, m min-p, joined by commas.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { benchEngine, benchOptions, root } from './common.mjs';

const values = benchOptions(1, {
  seeds: { type: 'string', default: '6' },
  tokens: { type: 'string', default: '48' },
  prompts: { type: 'string', default: '24' },
  penalty: { type: 'string', default: '1.3' },
  settings: { type: 'string', default: 'T0;T1;T0.8,p0.95;T0.7,p0.9;T0.6,p0.9;T0.8,k40;T0.7,k40;T1,m0.1;T0.8,m0.05;T0.8,m0.1;T0.7,m0.1' },
});
const SEEDS = Number(values.seeds);
const TOKENS = Number(values.tokens);
const PENALTY = Number(values.penalty);

const KEYS = { T: 'temperature', k: 'topK', p: 'topP', m: 'minP' };
function parseSetting(spec) {
  const setting = {};
  for (const part of spec.split(',')) {
    const key = KEYS[part[0]];
    const value = Number(part.slice(1));
    if (!key || !Number.isFinite(value)) throw new Error(`--settings: cannot read "${part}" of "${spec}"`);
    setting[key] = value;
  }
  return setting;
}
const settings = values.settings.split(';').map((spec) => ({ spec, request: parseSetting(spec) }));

const text = readFileSync(path.join(root, 'test', 'fixtures', 'eval', 'modern-heldout.txt'), 'utf8');
const prompts = text
  .split(/(?<=[.!?])\s+/)
  .map((s) => s.trim().split(/\s+/))
  .filter((words) => words.length >= 10)
  .slice(0, Number(values.prompts))
  .map((words) => words.slice(0, 6).join(' '));
const common = new Set(readFileSync(path.join(root, 'media', 'models', 'glove-100d', 'vocab.txt'), 'utf8').split('\n'));
const wordsOf = (s) => s.toLowerCase().match(/[a-z]+(?:'[a-z]+)?/g) ?? [];
const grams = (words, n) => words.slice(0, Math.max(0, words.length - n + 1)).map((_, i) => words.slice(i, i + n).join(' '));

const engine = benchEngine(values['models-dir']);
const rows = [];
const examples = {};
for (const { spec, request } of settings) {
  let words = 0;
  let known = 0;
  let trigrams = 0;
  let repeated = 0;
  let distinct = 0;
  let logProb = 0;
  let tokens = 0;
  const started = performance.now();
  for (const prompt of prompts) {
    const bigrams = [];
    for (let seed = 1; seed <= SEEDS; seed++) {
      const result = await engine.generate({
        text: prompt,
        model: values.gpt2,
        maxTokens: TOKENS,
        // as LM Lens: Continue Text asks (continueTextCommand.ts): the half-typed word re-written, no end before 16 tokens
        heal: true,
        minTokens: Math.min(TOKENS, 16),
        seed,
        repetitionPenalty: PENALTY,
        tokenProbs: true,
        ...request,
      });
      examples[spec] ??= prompt + result.completion;
      const ws = wordsOf(result.completion);
      words += ws.length;
      known += ws.filter((w) => common.has(w)).length;
      const tri = grams(ws, 3);
      trigrams += tri.length;
      repeated += tri.filter((g, i) => tri.indexOf(g) < i).length;
      bigrams.push(...grams(ws, 2));
      for (const p of result.tokenProbs ?? []) logProb += Math.log(Math.max(p, 1e-30));
      tokens += result.tokenProbs?.length ?? 0;
    }
    distinct += bigrams.length ? new Set(bigrams).size / bigrams.length : 0;
  }
  rows.push({
    setting: spec,
    commonWords: known / words,
    repeated3grams: trigrams ? repeated / trigrams : 0,
    distinctAcrossSeeds: distinct / prompts.length,
    logProb: logProb / tokens,
    words,
    seconds: (performance.now() - started) / 1000,
  });
  if (!values.json) process.stderr.write(`sampling: ${spec} done\n`);
}
await engine.dispose();

if (values.json) {
  console.log(JSON.stringify({ model: values.gpt2, prompts: prompts.length, seeds: SEEDS, tokens: TOKENS, penalty: PENALTY, rows, examples }, null, 1));
} else {
  console.log(
    `sampling: ${values.gpt2}, ${prompts.length} prompts x ${SEEDS} seeds x ${TOKENS} tokens, repetition penalty ${PENALTY}`,
  );
  console.log('| setting | common words | repeated 3-grams | distinct across seeds | log-prob / token | words |');
  console.log('|--|--:|--:|--:|--:|--:|');
  for (const r of rows) {
    console.log(
      `| ${r.setting} | ${r.commonWords.toFixed(3)} | ${r.repeated3grams.toFixed(3)} | ${r.distinctAcrossSeeds.toFixed(3)} | ${r.logProb.toFixed(2)} | ${r.words} |`,
    );
  }
  console.log('\nfirst continuation of each setting (prompt + completion):');
  for (const [spec, example] of Object.entries(examples)) console.log(`- ${spec}: ${JSON.stringify(example)}`);
}
