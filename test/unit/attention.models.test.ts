/**
 * `attention` on the real model folders: the shipped bert-mini and gpt2-mini (media/models), or until they are
 * trained the structurally identical smoke builds (training/work-smoke/models). Checks structure only (shapes,
 * distributions, causality, tokens, the CLI's JSON), never model quality. Skipped when neither exists.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { headMatrix } from '../../src/engine/tasks/attention/attentionTensor';
import { Engine, modelDirectories } from '../../src/engine/engine';
import { loadTokenizer } from '../../src/engine/tokenizer';
import { DIST, REPO_ROOT, SHIPPED_MODELS } from './helpers/modelFolders';

const SMOKE_MODELS = path.join(REPO_ROOT, 'training', 'work-smoke', 'models');
const has = (dir: string, id: string) => existsSync(path.join(dir, id, 'onnx', 'model.onnx'));
const folderFor = (id: string) => (has(SHIPPED_MODELS, id) ? SHIPPED_MODELS : has(SMOKE_MODELS, id) ? SMOKE_MODELS : undefined);

const TEXT = 'We sat on the bank of the river, and she paid the money into her bank account.';

for (const id of ['bert-mini', 'gpt2-mini']) {
  const dir = folderFor(id);
  describe(`attention on ${id}${dir === SMOKE_MODELS ? ' (smoke build)' : ''}`, { skip: dir ? false : `${id} is not built yet` }, () => {
    const engine = new Engine({ modelDirectories: modelDirectories(undefined, [dir!]), workerPath: path.join(DIST, 'worker.js') });
    after(() => engine.dispose());
    const config = dir ? (JSON.parse(readFileSync(path.join(dir, id, 'config.json'), 'utf8')) as Record<string, number>) : {};

    test('one matrix per layer and head (as config.json says), every row a distribution', async () => {
      const result = await engine.attention({ text: TEXT, model: id });
      assert.equal(result.layers, config['num_hidden_layers'] ?? config['n_layer']);
      assert.equal(result.heads, config['num_attention_heads'] ?? config['n_head']);
      const n = result.tokens.length;
      assert.equal(result.attentions.length, result.layers * result.heads * n * n);
      const shape = { layers: result.layers, heads: result.heads, tokens: n };
      for (let l = 0; l < result.layers; l++) {
        for (let h = 0; h < result.heads; h++) {
          const m = headMatrix(result.attentions, shape, l, h);
          for (let q = 0; q < n; q++) {
            const row = m.subarray(q * n, (q + 1) * n);
            const sum = row.reduce((a, b) => a + b, 0);
            assert.ok(Math.abs(sum - 1) < 1e-4, `L${l} H${h} row ${q} sums to ${sum}`);
            if (result.kind === 'causal-lm') assert.ok(row.subarray(q + 1).every((w) => w < 1e-6), `L${l} H${h} row ${q} sees the future`);
          }
        }
      }
    });

    test("the tokens are the tokenizer's own for the whole text, special tokens included", async () => {
      const result = await engine.attention({ text: TEXT, model: id });
      const tokenizer = await loadTokenizer(path.join(dir!, id));
      assert.deepEqual(result.ids, tokenizer.encode(TEXT).ids);
      const bank = result.spans.findIndex((s) => s !== null && TEXT.slice(s[0], s[1]).startsWith('bank'));
      assert.ok(bank > 0, 'a token knows it comes from "bank"');
      if (result.kind === 'causal-lm') {
        assert.equal(result.surprisal!.length, result.tokens.length);
        assert.ok(result.surprisal!.slice(1).every((s) => typeof s === 'number' && s >= 0));
        assert.equal(result.next!.length, result.tokens.length);
      }
    });

    test('lm-lens attention prints { tokens, layers, heads, attentions[layer][head][query][key] }', () => {
      const out = execFileSync(process.execPath, [path.join(DIST, 'cli.js'), '--models-dir', dir!, 'attention', '--text', 'The river bank.', '--model', id], {
        encoding: 'utf8',
      });
      const json = JSON.parse(out) as { tokens: string[]; layers: number; heads: number; attentions: number[][][][] };
      assert.equal(json.attentions.length, json.layers);
      assert.equal(json.attentions[0]!.length, json.heads);
      assert.equal(json.attentions[0]![0]!.length, json.tokens.length);
      assert.equal(json.attentions[0]![0]![0]!.length, json.tokens.length);
    });
  });
}
