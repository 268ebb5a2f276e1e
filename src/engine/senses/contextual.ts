/**
 * Contextual vectors of words in sentences, batched, from an ELMo (bilm) or a BERT-style (masked-lm) model.
 * Runs in the worker on sessions handed to it (never imports ONNX Runtime). Three phases per batch:
 * words -> model inputs, run, pick each requested word's vector out of every layer used.
 *   ELMo: every layer (token, LSTM 1, LSTM 2), the word's own position.
 *   BERT: the last two layers, the mean over the word's word pieces.
 */
import type { ModelInfo } from '../api';
import { ELMO_INPUTS, ELMO_OUTPUT, elmoBoundaryCharIds, elmoCharIds, parseElmoConfig } from '../models/elmo';
import { badInput, modelCorrupt } from '../errors';
import { tokenFeeds, tokenInputs } from '../models/io';
import type { WorkerServices } from '../runtime/context';
import type { HostTensor, ModelSession } from '../runtime/session';
import { loadTokenizer } from '../tokenizer';

/** Sentences of at most this many words are run together (padded to the longest). */
export const BATCH_SIZE = 16;
/** Word pieces per sentence given to a BERT-style model at most (special tokens included). */
export const MAX_PIECES = 128;

/** `contextVectors`: contextual vectors of words in sentences, batched (for sense-vector builds). */
export interface ContextVectorsParams {
  model: ModelInfo;
  sentences: string[][];
  /** Word indexes per sentence. */
  positions: number[][];
}

export interface ContextVectors {
  model: string;
  layers: string[];
  dim: number;
  /** Flat [position, layer, dim] over every requested position, sentence by sentence. */
  data: Float32Array;
}

/** The layers a model contributes to the sense signals. */
export function contextualLayers(model: ModelInfo, elmoLayerNames?: readonly string[]): string[] {
  if (model.kind === 'bilm') return [...(elmoLayerNames ?? ['token', 'lstm1', 'lstm2'])];
  return ['last', 'prev'];
}

/**
 * Vectors of `positions[s]` (word indexes) in `sentences[s]` (lists of words), batched. `checkpoint` runs
 * between batches (cancel), `onBatch` reports how many sentences are done.
 */
export async function contextVectors(
  model: ModelInfo,
  sentences: readonly (readonly string[])[],
  positions: readonly (readonly number[])[],
  services: WorkerServices,
  checkpoint: () => Promise<void>,
  onBatch?: (done: number) => void,
): Promise<ContextVectors> {
  if (sentences.length !== positions.length) throw badInput('sentences and positions differ in length');
  const runner = await runnerFor(model, services);
  const total = positions.reduce((n, p) => n + p.length, 0);
  let data = new Float32Array(0);
  let dim = 0;
  const starts: number[] = [];
  let acc = 0;
  for (const p of positions) {
    starts.push(acc);
    acc += p.length;
  }
  // shortest first, so batches pad little
  const order = sentences.map((_s, i) => i).sort((a, b) => sentences[a]!.length - sentences[b]!.length);
  let done = 0;
  for (let b = 0; b < order.length; b += BATCH_SIZE) {
    const ids = order.slice(b, b + BATCH_SIZE).filter((i) => positions[i]!.length > 0);
    if (ids.length > 0) {
      await checkpoint();
      const out = await runner.run(ids.map((i) => sentences[i]!), ids.map((i) => positions[i]!));
      if (dim === 0) {
        dim = out.dim;
        data = new Float32Array(total * runner.layers.length * dim);
      }
      const width = runner.layers.length * dim;
      ids.forEach((sentence, k) => {
        const rows = out.vectors[k]!;
        data.set(rows, starts[sentence]! * width);
      });
    }
    done += Math.min(BATCH_SIZE, order.length - b);
    onBatch?.(done);
  }
  return { model: model.id, layers: runner.layers, dim, data };
}

interface BatchRunner {
  layers: string[];
  /** One Float32Array [positions, layers, dim] per sentence. */
  run(sentences: (readonly string[])[], positions: (readonly number[])[]): Promise<{ dim: number; vectors: Float32Array[] }>;
}

async function runnerFor(model: ModelInfo, services: WorkerServices): Promise<BatchRunner> {
  if (model.kind === 'bilm') return elmoRunner(model, services);
  if (model.kind === 'masked-lm') return bertRunner(model, services);
  throw badInput(`Model "${model.id}" (${model.kind}) has no contextual word vectors for senses; use an ELMo or BERT model.`);
}

async function elmoRunner(model: ModelInfo, services: WorkerServices): Promise<BatchRunner> {
  const config = parseElmoConfig(await services.config(model), model.path);
  const session = await services.session(model);
  requireNames(session, model, Object.values(ELMO_INPUTS), [ELMO_OUTPUT]);
  const C = config.maxCharacters;
  const offset = config.addSentenceBoundaries ? 1 : 0;
  return {
    layers: config.layerNames,
    async run(sentences, positions) {
      const B = sentences.length;
      const T = Math.max(...sentences.map((s) => s.length)) + 2 * offset;
      const charIds = new BigInt64Array(B * T * C); // padding rows stay 0 (masked)
      const mask = new BigInt64Array(B * T);
      sentences.forEach((words, b) => {
        const rows = words.map((w) => elmoCharIds(w, C));
        if (offset) {
          rows.unshift(elmoBoundaryCharIds('begin', C));
          rows.push(elmoBoundaryCharIds('end', C));
        }
        rows.forEach((row, t) => {
          mask[b * T + t] = 1n;
          row.forEach((id, c) => (charIds[(b * T + t) * C + c] = BigInt(id)));
        });
      });
      const feeds: Record<string, HostTensor> = {
        [ELMO_INPUTS.charIds]: { type: 'int64', data: charIds, dims: [B, T, C] },
        [ELMO_INPUTS.attentionMask]: { type: 'int64', data: mask, dims: [B, T] },
      };
      const { [ELMO_OUTPUT]: hidden } = await session.run(feeds, [ELMO_OUTPUT]);
      if (!hidden || hidden.type !== 'float32' || hidden.dims.length !== 4 || hidden.dims[1] !== B || hidden.dims[2] !== T) {
        throw modelCorrupt(`ELMo "${ELMO_OUTPUT}" must be float32 [layers, ${B}, ${T}, dim].`);
      }
      const L = hidden.dims[0]!;
      const D = hidden.dims[3]!;
      const vectors = positions.map((ps, b) => {
        const out = new Float32Array(ps.length * L * D);
        ps.forEach((p, k) => {
          for (let l = 0; l < L; l++) {
            const from = ((l * B + b) * T + p + offset) * D;
            out.set(hidden.data.subarray(from, from + D), (k * L + l) * D);
          }
        });
        return out;
      });
      return { dim: D, vectors };
    },
  };
}

async function bertRunner(model: ModelInfo, services: WorkerServices): Promise<BatchRunner> {
  // a plain HF export (logits only) gets hidden_states.{i} by an ONNX rewrite in the worker (runtime/exposed.ts)
  const expose = model.outputs.includes('last_hidden_state') ? undefined : { expose: { hiddenStates: true } };
  const session = await services.session(model, expose);
  const tokenizer = await loadTokenizer(model.path);
  const stacked = session.outputNames.includes('hidden_states');
  const split = session.outputNames.filter((n) => /^hidden_states\.\d+$/.test(n)).sort((a, b) => layerNo(a) - layerNo(b));
  const last = session.outputNames.includes('last_hidden_state') ? 'last_hidden_state' : undefined;
  if (!stacked && split.length === 0 && !last) {
    throw badInput(
      `Model "${model.id}" exposes no hidden states (outputs: ${session.outputNames.join(', ')}); its senses need them.`,
    );
  }
  const specials = tokenizer.encode('').ids; // e.g. [CLS] [SEP]
  const prefix = specials.slice(0, Math.min(1, specials.length));
  const suffix = specials.slice(prefix.length);
  const pieceCache = new Map<string, number[]>();
  const piecesOf = (word: string): number[] => {
    let ids = pieceCache.get(word);
    if (!ids) {
      ids = tokenizer.encode(word, { add_special_tokens: false }).ids.filter((id) => id !== undefined);
      if (pieceCache.size > 50_000) pieceCache.clear();
      pieceCache.set(word, ids);
    }
    return ids;
  };
  const inputs = tokenInputs(session, model.id);
  return {
    layers: ['last', 'prev'],
    async run(sentences, positions) {
      const B = sentences.length;
      // word pieces per sentence, cut to a window of MAX_PIECES around the requested words
      const encoded = sentences.map((words, b) => encodeWords(words, positions[b]!, piecesOf, prefix, suffix));
      const T = Math.max(...encoded.map((e) => e.ids.length));
      const ids = new Int32Array(B * T); // padding rows stay 0 (masked)
      const mask = new Int32Array(B * T);
      encoded.forEach((e, b) =>
        e.ids.forEach((id, t) => {
          ids[b * T + t] = id;
          mask[b * T + t] = 1;
        }),
      );
      const feeds = tokenFeeds(inputs, { ids, batch: B, length: T, mask }, model.id);
      // two [B, T, D] layers: the last and the one before (or the last twice when only the last is exposed)
      let layerAt: (l: 0 | 1, b: number, t: number) => Float32Array;
      let D: number;
      if (stacked) {
        const { hidden_states: h } = await session.run(feeds, ['hidden_states']);
        if (!h || h.type !== 'float32' || h.dims.length !== 4) throw modelCorrupt(`${model.id}: hidden_states must be float32 [layers, B, T, D].`);
        const L = h.dims[0]!;
        D = h.dims[3]!;
        layerAt = (l, b, t) => {
          const layer = Math.max(0, L - 1 - l);
          const from = ((layer * B + b) * T + t) * D;
          return h.data.subarray(from, from + D);
        };
      } else {
        const names = split.length > 0 ? [split[split.length - 1]!, split[Math.max(0, split.length - 2)]!] : [last!, last!];
        const out = await session.run(feeds, [...new Set(names)]);
        const tensors = names.map((n) => out[n]);
        if (tensors.some((x) => !x || x.type !== 'float32' || x.dims.length !== 3)) throw modelCorrupt(`${model.id}: hidden states must be float32 [B, T, D].`);
        D = tensors[0]!.dims[2]!;
        layerAt = (l, b, t) => {
          const from = (b * T + t) * D;
          return (tensors[l]!.data as Float32Array).subarray(from, from + D);
        };
      }
      const vectors = positions.map((ps, b) => {
        const out = new Float32Array(ps.length * 2 * D);
        ps.forEach((p, k) => {
          const [from, to] = encoded[b]!.spans.get(p) ?? [0, 0];
          for (const l of [0, 1] as const) {
            const row = out.subarray((k * 2 + l) * D, (k * 2 + l + 1) * D);
            for (let t = from; t < to; t++) {
              const v = layerAt(l, b, t);
              for (let d = 0; d < D; d++) row[d]! += v[d]!;
            }
            if (to > from) for (let d = 0; d < D; d++) row[d]! /= to - from;
          }
        });
        return out;
      });
      return { dim: D, vectors };
    },
  };
}

function layerNo(name: string): number {
  return Number(name.slice(name.lastIndexOf('.') + 1));
}

/** [CLS] pieces... [SEP] for a window of words around the requested ones; spans: word index -> [from, to) tokens. */
function encodeWords(
  words: readonly string[],
  wanted: readonly number[],
  piecesOf: (word: string) => number[],
  prefix: readonly number[],
  suffix: readonly number[],
): { ids: number[]; spans: Map<number, [number, number]> } {
  const budget = MAX_PIECES - prefix.length - suffix.length;
  const pieces = words.map(piecesOf);
  let lo = Math.min(...wanted, words.length - 1);
  let hi = Math.max(...wanted, 0) + 1;
  let used = 0;
  for (let i = lo; i < hi; i++) used += pieces[i]!.length;
  // grow the window left and right while the pieces fit
  while (lo > 0 || hi < words.length) {
    const before = lo > 0 ? pieces[lo - 1]!.length : Infinity;
    const after = hi < words.length ? pieces[hi]!.length : Infinity;
    const next = Math.min(before, after);
    if (used + next > budget) break;
    used += next;
    if (before <= after) lo--;
    else hi++;
  }
  const ids: number[] = [...prefix];
  const spans = new Map<number, [number, number]>();
  for (let i = lo; i < hi; i++) {
    const from = ids.length;
    for (const id of pieces[i]!) if (ids.length < MAX_PIECES - suffix.length) ids.push(id);
    spans.set(i, [from, ids.length]);
  }
  ids.push(...suffix);
  return { ids, spans };
}

function requireNames(session: ModelSession, model: ModelInfo, inputs: readonly string[], outputs: readonly string[]): void {
  for (const name of inputs) {
    if (!session.inputNames.includes(name)) throw modelCorrupt(`${model.id} has no "${name}" input.`);
  }
  for (const name of outputs) {
    if (!session.outputNames.includes(name)) throw modelCorrupt(`${model.id} has no "${name}" output.`);
  }
}
