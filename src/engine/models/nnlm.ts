/**
 * The feed-forward neural probabilistic LM (Bengio et al. 2003, `model_type: "nnlm"`) on a session handed
 * to it: the previous `context_size` words -> a distribution over the next word. Runs in the worker,
 * imports no ORT.
 *
 * Graph contract (training/export.py): input_ids int64 [B, context_size] -> logits float32 [B, vocab].
 * Words before the first are the begin-of-sentence token `<S>`.
 */
import type { ModelInfo } from '../api';
import { modelCorrupt } from '../errors';
import type { WorkerServices } from '../runtime/context';
import type { ModelSession } from '../runtime/session';
import { logSumExp } from '../sampling';
import { loadTokenizer, type Tokenizer } from '../tokenizer';

const LOGITS = 'logits';
const START_TOKENS = ['<S>', '<s>'];

export class Nnlm {
  constructor(
    private readonly session: ModelSession,
    readonly tokenizer: Tokenizer,
    /** Words the model conditions on. */
    readonly contextSize: number,
    /** `<S>`: what stands before the first word. */
    readonly startId: number,
    readonly modelId: string,
  ) {
    if (!session.inputNames.includes('input_ids') || !session.outputNames.includes(LOGITS)) {
      throw modelCorrupt(`Model "${modelId}": an NNLM takes "input_ids" and gives "${LOGITS}" (it has ${session.inputNames.join(', ')} -> ${session.outputNames.join(', ')}).`);
    }
  }

  /**
   * The log-probability of `ids[from]` .. `ids[to - 1]`, each given the `contextSize` ids before it (`<S>`
   * before the first), in one run.
   */
  async logProbs(ids: readonly number[], from: number, to: number): Promise<number[]> {
    const n = this.contextSize;
    const padded = [...new Array<number>(n).fill(this.startId), ...ids];
    const rows = to - from;
    const data = new BigInt64Array(rows * n);
    for (let r = 0; r < rows; r++) for (let k = 0; k < n; k++) data[r * n + k] = BigInt(padded[from + r + k]!);
    const { [LOGITS]: logits } = await this.session.run({ input_ids: { type: 'int64', data, dims: [rows, n] } }, [LOGITS]);
    if (!logits || logits.type !== 'float32' || logits.dims.length !== 2 || logits.dims[0] !== rows) {
      const got = logits ? `${logits.type} [${logits.dims.join(', ')}]` : 'nothing';
      throw modelCorrupt(`Model "${this.modelId}": "${LOGITS}" must be float32 [${rows}, vocab]; got ${got}.`);
    }
    const vocab = logits.dims[1]!;
    return Array.from({ length: rows }, (_, r) => {
      const row = logits.data.subarray(r * vocab, (r + 1) * vocab);
      return row[ids[from + r]!]! - logSumExp(row);
    });
  }
}

export async function loadNnlm(model: ModelInfo, services: WorkerServices): Promise<Nnlm> {
  const [tokenizer, config, session] = await Promise.all([loadTokenizer(model.path), services.config(model), services.session(model)]);
  const contextSize = config['context_size'];
  if (typeof contextSize !== 'number' || !Number.isInteger(contextSize) || contextSize < 1) {
    throw modelCorrupt(`Model "${model.id}": config.json has no "context_size" (the words an NNLM conditions on).`);
  }
  const startId = START_TOKENS.map((token) => tokenizer.token_to_id(token)).find((id) => id !== undefined);
  if (startId === undefined) throw modelCorrupt(`Model "${model.id}": its tokenizer has no begin-of-sentence token (${START_TOKENS.join(' or ')}).`);
  return new Nnlm(session, tokenizer, contextSize, startId, model.id);
}
