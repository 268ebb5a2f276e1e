/**
 * Generation end to end: the production worker running a hand-built GPT-2-shaped model with a key/value
 * cache (helpers/lmModels.ts: it writes 'a' + the number of tokens seen), so every answer is known.
 * Also the real GPT-2 (shipped, or the training pipeline's smoke build) when it is there: greedy with the
 * cache gives exactly the tokens of greedy without it.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { GenerateProgress } from '../../src/engine/api';
import { Engine, modelDirectories } from '../../src/engine/engine';
import { STREAM_INTERVAL_MS, slideWindow } from '../../src/engine/tasks/generate/generate';
import { DIST, REPO_ROOT, SHIPPED_MODELS, tempDir } from './helpers/modelFolders';
import { COUNT_BASE, writeCountingGpt2 } from './helpers/lmModels';
import { lensError } from './helpers/lensError';

const workerPath = path.join(DIST, 'worker.js');

/** "2345…": what the counting model writes after `promptLength` tokens. */
const letters = (promptLength: number, n: number): string =>
  Array.from({ length: n }, (_, i) => String.fromCharCode(COUNT_BASE + promptLength + i)).join('');

describe('slideWindow', () => {
  test('keeps the ids while they fit, else the last three quarters of the window (at least one token)', () => {
    const ids = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    assert.deepEqual(slideWindow(ids.slice(0, 8), 8), { ids: ids.slice(0, 8), slid: false });
    assert.deepEqual(slideWindow(ids, 8), { ids: [4, 5, 6, 7, 8, 9], slid: true });
    assert.deepEqual(slideWindow([1, 2, 3], 2), { ids: [3], slid: true });
    assert.deepEqual(slideWindow([1, 2], 1), { ids: [2], slid: true });
  });
});

describe('generate (hand-built GPT-2-shaped model in the worker)', () => {
  const models = tempDir();
  let engine: Engine;

  before(() => {
    writeCountingGpt2(models.dir, 'counting');
    writeCountingGpt2(models.dir, 'counting-no-past', {}, { withPast: false });
    writeCountingGpt2(models.dir, 'counting-merged', {}, { useCacheBranch: true });
    writeCountingGpt2(models.dir, 'counting-eos-5', { eos_token_id: 53 }); // '5' ends the text
    writeCountingGpt2(models.dir, 'counting-8', { n_positions: 8 });
    writeCountingGpt2(models.dir, 'counting-8-no-past', { n_positions: 8 }, { withPast: false });
    writeCountingGpt2(models.dir, 'counting-long', { n_positions: 4096 });
    engine = new Engine({ modelDirectories: modelDirectories(models.dir), workerPath });
  });
  after(async () => {
    await engine.dispose();
    models.remove();
  });

  test('greedy: the known continuation, with timing and counts', async () => {
    const result = await engine.generate({ text: 'Hi', maxTokens: 5, model: 'counting' });
    assert.equal(result.completion, letters(2, 5));
    assert.equal(result.tokens, 5);
    assert.equal(result.promptTokens, 2);
    assert.equal(result.finishReason, 'length');
    assert.equal(result.cache, true);
    assert.equal(result.truncated, false);
    assert.equal(result.seed, undefined, 'greedy has no seed');
    assert.ok(result.ms > 0 && result.tokensPerSecond > 0 && result.firstTokenMs <= result.ms);
  });

  test('the cache carries the past: greedy with and without it is token-identical', async () => {
    const cached = await engine.generate({ text: 'abc', maxTokens: 12, model: 'counting' });
    const recomputed = await engine.generate({ text: 'abc', maxTokens: 12, model: 'counting', noCache: true });
    assert.equal(cached.cache, true);
    assert.equal(recomputed.cache, false);
    assert.equal(cached.completion, letters(3, 12));
    assert.equal(recomputed.completion, cached.completion);
  });

  test('graphs without past inputs, and merged decoders with use_cache_branch, work too', async () => {
    const noPast = await engine.generate({ text: 'abc', maxTokens: 4, model: 'counting-no-past' });
    assert.equal(noPast.completion, letters(3, 4));
    assert.equal(noPast.cache, false, 'no present outputs: every step recomputes');
    const merged = await engine.generate({ text: 'abc', maxTokens: 4, model: 'counting-merged' });
    assert.equal(merged.completion, letters(3, 4));
    assert.equal(merged.cache, true);
  });

  test('streams the text as it is generated; the pieces make the completion', async () => {
    const progress: GenerateProgress[] = [];
    const result = await engine.generate({ text: 'Hi', maxTokens: 6, model: 'counting' }, undefined, (p) => progress.push(p));
    assert.equal(progress.map((p) => p.text).join(''), result.completion);
    assert.ok(progress.length >= 2, 'more than one message');
    assert.deepEqual(progress.map((p) => p.tokens), [...progress.map((p) => p.tokens)].sort((a, b) => a - b));
  });

  test('streaming is coalesced: the first piece at once, then at most one message per STREAM_INTERVAL_MS', async () => {
    const progress: GenerateProgress[] = [];
    const result = await engine.generate({ text: 'Hi', maxTokens: 200, minTokens: 200, model: 'counting-long' }, undefined, (p) =>
      progress.push(p),
    );
    assert.equal(progress.map((p) => p.text).join(''), result.completion, 'nothing lost or repeated');
    assert.equal(progress[0]!.tokens, 1, 'the first token is not held back');
    // one message per token would be 200; time-coalesced ones are bounded by the generation's own duration
    const bound = 2 + Math.floor(result.ms / STREAM_INTERVAL_MS);
    assert.ok(progress.length <= bound, `${progress.length} messages for ${result.tokens} tokens in ${result.ms} ms (bound ${bound})`);
  });

  test('stop strings: generation ends before them and never streams them', async () => {
    const progress: string[] = [];
    const result = await engine.generate({ text: 'Hi', maxTokens: 20, stop: ['56', 'zz'], model: 'counting' }, undefined, (p) => progress.push(p.text));
    assert.equal(result.completion, '234');
    assert.equal(result.finishReason, 'stop');
    assert.equal(progress.join(''), '234', 'the "5" was held back, then dropped');
  });

  test('the end-of-text token ends generation and is not part of the completion', async () => {
    const result = await engine.generate({ text: 'Hi', maxTokens: 20, model: 'counting-eos-5' });
    assert.equal(result.completion, '234');
    assert.equal(result.finishReason, 'eos');
    assert.equal(result.tokens, 3);
  });

  test('minTokens holds back the end-of-text token (for benchmarks of a fixed length)', async () => {
    const result = await engine.generate({ text: 'Hi', maxTokens: 8, minTokens: 8, model: 'counting-eos-5' });
    assert.equal(result.tokens, 8);
    assert.equal(result.finishReason, 'length');
    await assert.rejects(engine.generate({ text: 'Hi', maxTokens: 4, minTokens: 5, model: 'counting' }), lensError('BAD_INPUT', /minTokens/));
  });

  test('sampling: a seed reproduces the completion, another seed (almost surely) differs, the seed is returned', async () => {
    const request = { text: 'Hi', maxTokens: 16, temperature: 1.5, model: 'counting' };
    const a = await engine.generate({ ...request, seed: 1 });
    const b = await engine.generate({ ...request, seed: 1 });
    const c = await engine.generate({ ...request, seed: 2 });
    assert.equal(a.completion, b.completion);
    assert.equal(a.seed, 1);
    assert.notEqual(a.completion, c.completion);
    assert.notEqual(a.completion, letters(2, 16), 'sampled, not greedy');
    const unseeded = await engine.generate(request);
    assert.equal(typeof unseeded.seed, 'number');
    const again = await engine.generate({ ...request, seed: unseeded.seed! });
    assert.equal(again.completion, unseeded.completion, 'the returned seed reproduces it');
    const narrow = await engine.generate({ ...request, seed: 5, topK: 1 });
    assert.equal(narrow.completion, letters(2, 16), 'top-k 1 is greedy');
    const strict = await engine.generate({ ...request, seed: 5, minP: 0.99 });
    assert.equal(strict.completion, letters(2, 16), 'min-p 0.99 keeps only the most likely token here');
    const loose = await engine.generate({ ...request, seed: 1, minP: 1e-9 });
    assert.equal(loose.completion, a.completion, 'a min-p below every token cuts nothing: the same draws as without it');
  });

  test('a subnormal temperature (1e-320) is greedy, not garbage (issue 12)', async () => {
    for (const temperature of [1e-320, 1e-7]) {
      const result = await engine.generate({ text: 'Hi', maxTokens: 16, temperature, model: 'counting' });
      assert.equal(result.completion, letters(2, 16), `temperature ${temperature}`);
      assert.equal(result.seed, undefined, 'greedy has no seed');
    }
  });

  test('a prompt longer than the context window is cut from the left, with a flag', async () => {
    const result = await engine.generate({ text: 'x'.repeat(3000), maxTokens: 8, model: 'counting' });
    assert.equal(result.truncated, true);
    assert.equal(result.promptTokens, 56); // n_positions 64 - 8
    assert.equal(result.completion, letters(56, 8));
  });

  test('at the end of the context window the window slides by a quarter (issue 13), with or without a cache', async () => {
    // the counting model writes the number of tokens it sees: up to the window (64), then 48 after each slide
    const result = await engine.generate({ text: 'x'.repeat(20), maxTokens: 60, model: 'counting' });
    assert.equal(result.truncated, false);
    assert.equal(result.tokens, 60);
    assert.equal(result.finishReason, 'length');
    assert.equal(result.completion, letters(20, 45) + letters(48, 15));
    // an 8-position window: sees 2..8 tokens, then 6..8 again and again (it used to stop after 4 tokens)
    const small = letters(2, 7) + letters(6, 3).repeat(3);
    for (const [model, noCache] of [['counting-8', false], ['counting-8', true], ['counting-8-no-past', false]] as const) {
      const run = await engine.generate({ text: 'Hi', maxTokens: 16, model, noCache });
      assert.equal(run.completion, small, `${model}${noCache ? ' without the cache' : ''}`);
      assert.equal(run.tokens, 16);
      assert.equal(run.finishReason, 'length');
    }
  });

  test('cancelling mid-generation: CANCELLED between tokens, no more tokens, and the engine keeps working', async () => {
    const controller = new AbortController();
    let received = 0;
    let afterCancel = 0;
    // cancel on the first streamed piece: after "b".."~" the counting model's bytes are not text (the decoder holds
    // them back), so on a fast machine a third progress message may never come; minTokens keeps it generating
    const running = engine.generate({ text: 'a', maxTokens: 1000, minTokens: 1000, noCache: true, model: 'counting-long' }, controller.signal, () => {
      if (controller.signal.aborted) afterCancel++;
      if (++received === 1) controller.abort();
    });
    await assert.rejects(running, lensError('CANCELLED'));
    assert.equal(received, 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(afterCancel, 0, 'no progress after the cancel');
    const next = await engine.generate({ text: 'Hi', maxTokens: 2, model: 'counting' });
    assert.equal(next.completion, '23');
  });

  test('shutting the engine down mid-generation: CANCELLED, and the worker is let out of session.run first', async () => {
    // terminating a worker inside a run would abort this whole process (onnxruntime-node 1.30)
    const own = new Engine({ modelDirectories: modelDirectories(models.dir), workerPath });
    let disposing: Promise<void> | undefined;
    const running = own.generate({ text: 'a', maxTokens: 1000, noCache: true, model: 'counting-long' }, undefined, () => {
      disposing ??= own.dispose();
    });
    await assert.rejects(running, lensError('CANCELLED', /shut down/));
    await disposing;
  });

  test('bad input: clear BAD_INPUT messages, never a crash', async () => {
    const bad = async (request: object, message: RegExp): Promise<void> =>
      assert.rejects(engine.generate({ model: 'counting', text: 'Hi', ...request }), lensError('BAD_INPUT', message));
    await bad({ text: '' }, /empty/);
    await bad({ text: '   ' }, /empty/);
    await bad({ maxTokens: 0 }, /maxTokens/);
    await bad({ maxTokens: 5000 }, /maxTokens/);
    await bad({ temperature: -1 }, /temperature/);
    await bad({ topP: 0 }, /topP/);
    await bad({ topK: 1.5 }, /topK/);
    await bad({ minP: -0.1 }, /minP/);
    await bad({ minP: 1 }, /minP/);
    await bad({ minP: Number.NaN }, /minP/);
    await bad({ seed: -3 }, /seed/);
    await bad({ stop: [''] }, /stop/);
    await bad({ repetitionPenalty: 0.5 }, /repetitionPenalty/);
    await bad({ repetitionPenalty: 3 }, /repetitionPenalty/);
    await assert.rejects(engine.generate({ text: 'Hi', model: 'nope' }), lensError('MODEL_NOT_FOUND'));
  });
});

/** The real GPT-2: shipped in media/models, or the training pipeline's smoke build. */
function realGpt2(): string | undefined {
  for (const dir of [SHIPPED_MODELS, path.join(REPO_ROOT, 'training', 'work-smoke', 'models')]) {
    if (existsSync(path.join(dir, 'gpt2-mini', 'onnx', 'model.onnx'))) return dir;
  }
  return undefined;
}

describe('generate with the real GPT-2 (gpt2-mini)', { skip: realGpt2() ? false : 'no gpt2-mini in media/models or training/work-smoke/models' }, () => {
  let engine: Engine;
  before(() => {
    engine = new Engine({ modelDirectories: modelDirectories(realGpt2()!), workerPath });
  });
  after(() => engine.dispose());

  test('greedy with the cache is token-identical to greedy without it', async () => {
    const request = { text: 'The dog barked at the', maxTokens: 48, model: 'gpt2-mini' };
    const cached = await engine.generate(request);
    const recomputed = await engine.generate({ ...request, noCache: true });
    assert.equal(cached.cache, true);
    assert.equal(cached.completion, recomputed.completion);
    assert.equal(cached.tokens, recomputed.tokens);
  });

  test('greedy with a repetition penalty gives the tokens of transformers.js with the same repetition_penalty', async () => {
    // both read the same folder; transformers.js applies CTRL's penalty to every token of the prompt and the
    // completion (RepetitionPenaltyLogitsProcessor), as the engine does
    const tjs = await import('@huggingface/transformers');
    tjs.env.allowRemoteModels = false;
    tjs.env.allowLocalModels = true;
    tjs.env.localModelPath = realGpt2()! + path.sep;
    const generator = await tjs.pipeline('text-generation', 'gpt2-mini', {
      dtype: 'fp32',
      device: 'cpu',
      session_options: { intraOpNumThreads: 1, interOpNumThreads: 1 },
    });
    const prompts = ['The dog barked at the', 'She opened the door and the door'];
    try {
      for (const text of prompts) {
        const plain = await engine.generate({ text, maxTokens: 24, minTokens: 24, model: 'gpt2-mini' });
        const ours = await engine.generate({ text, maxTokens: 24, minTokens: 24, repetitionPenalty: 1.3, model: 'gpt2-mini' });
        const [theirs] = (await generator(text, {
          max_new_tokens: 24,
          min_new_tokens: 24,
          do_sample: false,
          repetition_penalty: 1.3,
          return_full_text: false,
        })) as { generated_text: string }[];
        assert.equal(ours.completion, theirs!.generated_text, text);
        assert.equal(ours.tokens, 24);
        assert.notEqual(ours.completion, plain.completion, `the penalty changed nothing after "${text}"`);
      }
    } finally {
      await generator.dispose();
    }
  });

  test('a 3,000-token prompt is truncated, not refused', async () => {
    const result = await engine.generate({ text: 'the river bank '.repeat(1000), maxTokens: 4, model: 'gpt2-mini' });
    assert.equal(result.truncated, true);
    assert.ok(result.tokens <= 4);
  });
});
