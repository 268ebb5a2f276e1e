/** The first-use notice of the shipped mini models: what it says, and when it says nothing. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { LARGER_MODEL, compactCount, miniModelNotice, scoreboardLine } from '../../src/features/models/miniModelText';
import { REPO_ROOT } from './helpers/modelFolders';

const training = {
  tokens_seen: 20_000_000,
  cumulative_tokens: 43_783_472,
  parameters: 3_398_592,
  scoreboard: { blimp: 0.5431, cloze_top5: 0.1964, modern_perplexity: 295.54 },
};

describe('mini-model notice', () => {
  test('a shipped model trained by the pipeline: size, tokens, scoreboard, and the larger model to add', () => {
    const notice = miniModelNotice({ id: 'gpt2-mini', source: 'shipped' }, { lm_lens_training: training }, 'completion')!;
    assert.match(notice.message, /^LM Lens: Completion is using gpt2-mini/);
    assert.match(notice.message, /3\.4M parameters, 43\.8M training tokens/);
    assert.match(notice.message, /scoreboard: cloze top-5 0\.20, perplexity 296 on modern text, BLiMP 0\.54/);
    assert.equal(notice.repo, LARGER_MODEL.completion);
    assert.equal(miniModelNotice({ id: 'bert-mini', source: 'shipped' }, { lm_lens_training: training }, 'fill')!.repo, 'Xenova/distilbert-base-uncased');
  });

  test('nothing for a model the user added, or a shipped folder the pipeline did not train', () => {
    assert.equal(miniModelNotice({ id: 'distilgpt2', source: 'user' }, { lm_lens_training: training }, 'completion'), undefined);
    assert.equal(miniModelNotice({ id: 'gpt2', source: 'shipped' }, { model_type: 'gpt2' }, 'completion'), undefined);
    assert.equal(miniModelNotice({ id: 'gpt2', source: 'shipped' }, { lm_lens_training: 'yes' }, 'completion'), undefined);
  });

  test('missing or malformed figures are left out, never printed as undefined or NaN', () => {
    const notice = miniModelNotice({ id: 'bert-mini', source: 'shipped' }, { lm_lens_training: { parameters: 'many', scoreboard: { blimp: null } } }, 'fill')!;
    assert.doesNotMatch(notice.message, /undefined|NaN|null|scoreboard/);
    assert.match(notice.message, /Fill Mask is using bert-mini, a small model/);
    assert.equal(scoreboardLine({ cloze_top5: 0.5 }), 'cloze top-5 0.50');
    assert.equal(scoreboardLine(undefined), '');
    assert.deepEqual([compactCount(950), compactCount(12_345), compactCount(8_215_744), compactCount(2.5e9)], ['950', '12k', '8.2M', '2.5B']);
  });

  test('the shipped bert-mini and gpt2-mini configs produce a notice', () => {
    for (const [id, feature] of [['bert-mini', 'fill'], ['gpt2-mini', 'completion']] as const) {
      const config = JSON.parse(readFileSync(path.join(REPO_ROOT, 'media', 'models', id, 'config.json'), 'utf8')) as Record<string, unknown>;
      const notice = miniModelNotice({ id, source: 'shipped' }, config, feature);
      assert.ok(notice, id);
      assert.match(notice.message, /M parameters/);
    }
  });
});
