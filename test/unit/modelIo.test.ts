/**
 * models/io.ts: which graph input is which under other exporters' names, fed in the declared integer type, and
 * which output holds the logits; models kinds from config.json architectures and the graph's outputs.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LensError } from '../../src/engine/errors';
import { findLogitsOutput, noLogitsError, tokenFeeds, tokenInputs } from '../../src/engine/models/io';
import { notMaskedLmReason } from '../../src/engine/modelStore';
import type { TensorInfo } from '../../src/engine/onnxSignature';

const tensor = (name: string, type: string, shape: (number | string)[]): TensorInfo => ({ name, type, shape });
const declared = (inputs: TensorInfo[]) => ({ inputNames: inputs.map((i) => i.name), inputInfo: inputs });

describe('tokenInputs and tokenFeeds', () => {
  test('Hugging Face names, int64: ids, a mask of ones, segment ids 0, positions after the past', () => {
    const inputs = tokenInputs(
      declared([
        tensor('input_ids', 'int64', ['b', 's']),
        tensor('attention_mask', 'int64', ['b', 't']),
        tensor('token_type_ids', 'int64', ['b', 's']),
        tensor('position_ids', 'int64', ['b', 's']),
        tensor('past_key_values.0.key', 'float32', ['b', 2, 'p', 4]),
      ]),
      'm',
    );
    assert.deepEqual(inputs.others, ['past_key_values.0.key']);
    assert.equal(inputs.fixedLength, undefined);
    const feeds = tokenFeeds(inputs, { ids: [5, 6], batch: 1, length: 2, pastLength: 3 }, 'm');
    assert.deepEqual(Object.keys(feeds), ['input_ids', 'attention_mask', 'token_type_ids', 'position_ids']);
    assert.deepEqual(feeds['input_ids'], { type: 'int64', data: BigInt64Array.of(5n, 6n), dims: [1, 2] });
    assert.deepEqual(feeds['attention_mask'], { type: 'int64', data: new BigInt64Array(5).fill(1n), dims: [1, 5] });
    assert.deepEqual(feeds['token_type_ids'], { type: 'int64', data: new BigInt64Array(2), dims: [1, 2] });
    assert.deepEqual(feeds['position_ids'], { type: 'int64', data: BigInt64Array.of(3n, 4n), dims: [1, 2] });
  });

  test('old BERT names and tf2onnx suffixes, int32 as declared; a given mask is used as is', () => {
    const inputs = tokenInputs(
      declared([tensor('input_ids:0', 'int32', ['b', 's']), tensor('input_mask:0', 'int32', ['b', 's']), tensor('segment_ids:0', 'int32', ['b', 's'])]),
      'm',
    );
    assert.deepEqual(inputs.names, { input_ids: 'input_ids:0', attention_mask: 'input_mask:0', token_type_ids: 'segment_ids:0' });
    const feeds = tokenFeeds(inputs, { ids: [1, 2, 0, 3, 4, 5], batch: 2, length: 3, mask: [1, 1, 0, 1, 1, 1] }, 'm');
    assert.deepEqual(feeds['input_ids:0'], { type: 'int32', data: Int32Array.of(1, 2, 0, 3, 4, 5), dims: [2, 3] });
    assert.deepEqual(feeds['input_mask:0'], { type: 'int32', data: Int32Array.of(1, 1, 0, 1, 1, 1), dims: [2, 3] });
    assert.deepEqual(feeds['segment_ids:0'], { type: 'int32', data: new Int32Array(6), dims: [2, 3] });
  });

  test('TF Hub names (input_word_ids, input_type_ids); undeclared types default to int64', () => {
    const inputs = tokenInputs({ inputNames: ['input_word_ids', 'input_type_ids'], inputInfo: [] }, 'm');
    assert.deepEqual(inputs.names, { input_ids: 'input_word_ids', token_type_ids: 'input_type_ids' });
    assert.equal(tokenFeeds(inputs, { ids: [1], batch: 1, length: 1 }, 'm')['input_word_ids']!.type, 'int64');
  });

  test('MODEL_CORRUPT without token ids or with a float token input; a fixed length is explained', () => {
    const corrupt = (pattern: RegExp) => (error: unknown) => error instanceof LensError && error.code === 'MODEL_CORRUPT' && pattern.test(error.message);
    assert.throws(() => tokenInputs(declared([tensor('pixel_values', 'float32', [1, 3])]), 'm'), corrupt(/no token-id input .*pixel_values/));
    assert.throws(() => tokenInputs(declared([tensor('input_ids', 'float32', ['b', 's'])]), 'm'), corrupt(/"input_ids" is float32/));
    const fixed = tokenInputs(declared([tensor('input_ids', 'int32', ['b', 7])]), 'm');
    assert.equal(fixed.fixedLength, 7);
    assert.throws(() => tokenFeeds(fixed, { ids: [1, 2], batch: 1, length: 2 }, 'm'), (e: unknown) => e instanceof LensError && e.code === 'BAD_INPUT' && /exactly 7 tokens/.test(e.message));
    assert.throws(() => tokenFeeds(fixed, { ids: Array(8).fill(1), batch: 1, length: 8 }, 'm'), (e: unknown) => e instanceof LensError && e.code === 'INPUT_TOO_LONG');
    assert.equal(Object.keys(tokenFeeds(fixed, { ids: Array(7).fill(1), batch: 1, length: 7 }, 'm')).length, 1);
  });
});

describe('findLogitsOutput', () => {
  test('logits first, then older names, then the first float [B, T, vocab] output that is not a hidden state', () => {
    assert.equal(findLogitsOutput([tensor('hidden_states', 'float32', ['b', 's', 8]), tensor('logits', 'float32', ['b', 's', 100])]), 'logits');
    assert.equal(findLogitsOutput([tensor('prediction_scores', 'float32', ['b', 's', 99]), tensor('seq_relationship_score', 'float32', ['b', 2])]), 'prediction_scores');
    assert.equal(findLogitsOutput([tensor('last_hidden_state', 'float32', ['b', 's', 8]), tensor('output_0', 'float32', ['b', 's', 100])], 100), 'output_0');
    assert.equal(findLogitsOutput([tensor('output_0', 'float32', ['b', 's', 8])], 100), undefined, 'last dim is not the vocabulary');
    assert.equal(findLogitsOutput([tensor('output_0', 'float32', ['b', 's', 'vocab'])], 100), 'output_0', 'a symbolic vocabulary dim');
    assert.equal(findLogitsOutput([tensor('logits', 'float32', ['b', 's', 8000])], 8192), 'logits', "a name is trusted over config's vocab_size");
  });

  test('a classifier, a QA head, a bare encoder: none', () => {
    assert.equal(findLogitsOutput([tensor('logits', 'float32', ['batch', 2])]), undefined);
    assert.equal(findLogitsOutput([tensor('start_logits', 'float32', ['b', 's']), tensor('end_logits', 'float32', ['b', 's'])]), undefined);
    assert.equal(findLogitsOutput([tensor('last_hidden_state', 'float32', ['b', 's', 768])]), undefined);
    assert.equal(findLogitsOutput([tensor('last_state', 'float32', ['b', 's', 4]), tensor('present_0', 'float32', [2, 'b', 2, 's', 2])]), undefined);
  });

  test('noLogitsError names the outputs and what would work', () => {
    const error = noLogitsError('clf', [tensor('logits', 'float32', ['batch', 2])], 'fill masks', 'masked-LM head');
    assert.equal(error.code, 'BAD_INPUT');
    assert.match(error.message, /"clf" has no language-model logits output .*logits \[batch, 2\].*cannot fill masks.*masked-LM head/);
  });
});

describe('notMaskedLmReason', () => {
  const mlm = [tensor('logits', 'float32', ['b', 's', 30522])];
  test('a masked LM by its architecture and outputs', () => {
    assert.equal(notMaskedLmReason({ architectures: ['BertForMaskedLM'] }, mlm), undefined);
    assert.equal(notMaskedLmReason({}, mlm), undefined, 'no architectures: the outputs decide');
    assert.equal(notMaskedLmReason({ architectures: ['BertForPreTraining'] }, [tensor('prediction_scores', 'float32', ['b', 's', 99])]), undefined);
  });

  test('task heads and bare encoders are not, whatever model_type says', () => {
    assert.match(notMaskedLmReason({ architectures: ['BertForQuestionAnswering'] }, mlm) ?? '', /BertForQuestionAnswering: a task head/);
    assert.match(notMaskedLmReason({ architectures: ['RobertaForTokenClassification'] }, [tensor('logits', 'float32', ['b', 's', 9])]) ?? '', /TokenClassification/);
    assert.match(notMaskedLmReason({}, [tensor('start_logits', 'float32', ['b', 's']), tensor('end_logits', 'float32', ['b', 's'])]) ?? '', /question-answering head/);
    assert.match(notMaskedLmReason({ architectures: ['BertModel'] }, [tensor('last_hidden_state', 'float32', ['b', 's', 8])]) ?? '', /BertModel: a bare encoder, no masked-LM logits/);
    assert.match(notMaskedLmReason({ architectures: ['ElectraForPreTraining'] }, [tensor('logits', 'float32', ['b', 's'])]) ?? '', /no masked-LM logits/);
  });
});
