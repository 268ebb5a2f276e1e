/**
 * Rewrites an unfused transformer export so attention probabilities and per-block hidden states
 * become graph outputs (`attentions.{i}`, `hidden_states.{i}`), which HF exports leave out.
 * Each new output is an Identity of the internal value, appended after the existing nodes and
 * outputs; nothing else in the model changes, so the original outputs are computed as before.
 */
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LensError, modelCorrupt } from '../errors';
import { StampedCache } from '../fileStamp';
import { AttentionSoftmax, FusedAttentionNode, findAttentionSoftmaxesIn, findFusedAttentionIn, findOtherShapeSoftmaxesIn } from './attention';
import { makeInt64Tensor, makeNode, makeTensorValueInfo } from './build';
import { decomposeFusedAttention, type AttentionDecomposition } from './fusedAttention';
import { GraphIndex } from './graph';
import { gatherBeforeHead, type HeadGather } from './headGather';
import { exposeNewKv, type KvAppend } from './kvAppend';
import { LayerOutput, findLayerOutputsIn } from './layers';
import { GraphProto, ModelProto, NodeProto, ValueInfoProto, decodeModel, encodeModel } from './proto';

/** Bump when the rewrite changes, so cached rewritten models are rebuilt. */
export const REWRITE_VERSION = 2;

export interface ExposeOptions {
  /** Add `attentions.{i}`: the attention probabilities of block i, [batch, heads, query, key]. Default true. */
  attentions?: boolean;
  /** Add `hidden_states.{i}`: the output of block i, [batch, sequence, hidden]. Default true. */
  hiddenStates?: boolean;
  /** sha256 (hex) of `modelBytes` when the caller already has it (saves hashing a large file twice). */
  sourceSha256?: string;
  /**
   * The name of a masked LM's logits output: rewrite the graph so its head runs at one position per row (see
   * headGather.ts). Alone: attentions and hidden states are not added then, and every other output is dropped.
   */
  headGather?: string;
  /**
   * Add each step's new keys / values of a causal LM as outputs (`lm_lens_new.<past>`, see kvAppend.ts). Alone, like
   * headGather: nothing else is added and every output stays.
   */
  kvAppend?: boolean;
}

export interface ExposedOutput {
  /** The new graph output's name (`attentions.3`, `hidden_states.3`). */
  name: string;
  /** Block index (from node names, else the rank in the graph). */
  layer: number;
  /** The internal value it copies, and the node that makes it (in a merged decoder: those of its first If branch). */
  source: string;
  node: string;
}

/** What a rewrite added: JSON-serialisable, cached next to the rewritten model. */
export interface ExposeMapping {
  /** sha256 (hex) of the source model file: the cache key. */
  sourceSha256: string;
  attentions: ExposedOutput[];
  hiddenStates: ExposedOutput[];
  /** Why something that was asked for is missing (fused attention, no layers found); absent when all is there. */
  explanations: { attentions?: string; hiddenStates?: string; headGather?: string; kvAppend?: string };
  /** What `headGather` did, when it was asked for and could be done. */
  headGather?: HeadGather;
  /** What `kvAppend` did, when it was asked for and could be done. */
  kvAppend?: KvAppend;
  /** Fused attention nodes left in the graph (their probabilities cannot be exposed). */
  fusedAttention: FusedAttentionNode[];
  /** com.microsoft.Attention nodes written out as standard operators so their probabilities could be exposed. */
  decomposedAttention: string[];
}

export interface ExposeResult extends ExposeMapping {
  /** The rewritten model; the input bytes themselves when nothing was added. */
  bytes: Uint8Array;
  changed: boolean;
  /** The model keeps weights in external files (their paths are relative to the model file). */
  externalData: boolean;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function fusedExplanation(fused: FusedAttentionNode[], refused: AttentionDecomposition['refused']): string {
  const ops = [...new Set(fused.map((f) => `${f.domain}.${f.opType}`))].join(', ');
  const [first] = refused;
  const why = first
    ? `LM Lens writes com.microsoft.Attention out as standard operators to show it, but node "${first.node}" uses ` +
      `${first.reason}, which it cannot write out${refused.length > 1 ? ` (and ${refused.length - 1} more node(s))` : ''}. `
    : '';
  return (
    `This model computes attention inside fused operators (${ops}, ${fused.length} node(s)): ` + why +
    'the attention probabilities never exist as a separate tensor, so they cannot be shown. ' +
    'Use an unfused export of the model (for example the plain transformers.js / optimum export, ' +
    'not one optimized with onnxruntime.transformers).'
  );
}

function subgraphSoftmaxCount(index: GraphIndex): number {
  let count = 0;
  const stack = index.nodes.flatMap((n) => (n.attribute ?? []).flatMap((a) => [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]));
  for (let guard = 0; stack.length > 0 && guard < 10_000; guard++) {
    const graph = stack.pop();
    for (const node of graph?.node ?? []) {
      if (node.op_type === 'Softmax') {
        count++;
      }
      for (const a of node.attribute ?? []) {
        stack.push(...(a.g ? [a.g] : []), ...(a.graphs ?? []));
      }
    }
  }
  return count;
}

function noAttentionExplanation(index: GraphIndex): string {
  const otherShape = findOtherShapeSoftmaxesIn(index);
  if (otherShape.length > 0) {
    const first = otherShape[0]!;
    const rank = first.rank === undefined ? 'a tensor of unknown rank' : `a rank-${first.rank} tensor`;
    return (
      `This model has ${otherShape.length} Softmax node(s) fed by a MatMul of two activations (query × keyᵀ), ` +
      `but over axis ${first.axis} of ${rank} (${first.node || 'unnamed'}): LM Lens reads attention as ` +
      '[batch, heads, query, key] or [batch·heads, query, key] with the Softmax over the key axis (the last).'
    );
  }
  const nested = subgraphSoftmaxCount(index);
  if (nested > 0) {
    return (
      `This model's attention is inside control-flow subgraphs (If/Loop; ${nested} Softmax node(s)) in a form ` +
      'LM Lens cannot rewrite. Use the model.onnx or decoder_model.onnx export instead.'
    );
  }
  return (
    'No attention was found in this model: no Softmax is fed by a MatMul of two activations (query × keyᵀ). ' +
    'It may not be a transformer, or its export uses a pattern LM Lens does not recognise.'
  );
}

function noLayersExplanation(): string {
  return (
    'The transformer blocks of this model could not be told apart: its node names carry no layer index ' +
    '(like /encoder/layer.3/ or /h.3/) and its attention layout gives no usable hint.'
  );
}

/**
 * Where the values to expose live: the main graph, or both branches of an If node (optimum's merged
 * decoders, decoder_model_merged.onnx, run their layers in a "with past" and a "without past" branch).
 */
interface Site {
  /** [main graph] or [then branch, else branch]. */
  graphs: GraphIndex[];
  ifNode?: NodeProto;
  /** Per graph, in the same order in each. */
  softmaxes: AttentionSoftmax[][];
  layers: LayerOutput[][];
}

function ifBranches(node: NodeProto): [GraphProto, GraphProto] | undefined {
  const thenBranch = node.attribute?.find((a) => a.name === 'then_branch')?.g;
  const elseBranch = node.attribute?.find((a) => a.name === 'else_branch')?.g;
  return thenBranch && elseBranch ? [thenBranch, elseBranch] : undefined;
}

/** An If whose two branches compute the same number of attention Softmax nodes. */
function findBranchSite(main: GraphIndex, wantHidden: boolean): Site | undefined {
  for (const node of main.nodes) {
    const branches = node.op_type === 'If' ? ifBranches(node) : undefined;
    if (!branches) {
      continue;
    }
    const graphs = branches.map((g) => new GraphIndex(g, main));
    const softmaxes = graphs.map((g) => findAttentionSoftmaxesIn(g));
    if (softmaxes[0].length === 0 || softmaxes[0].length !== softmaxes[1].length) {
      continue;
    }
    const layers = wantHidden ? graphs.map((g, k) => findLayerOutputsIn(g, softmaxes[k])) : [[], []];
    return { graphs, ifNode: node, softmaxes, layers: layers[0].length === layers[1].length ? layers : [[], []] };
  }
  return undefined;
}

/** Collects the Identity nodes and outputs to add, then applies them all at once. */
class OutputAdder {
  private readonly nodes: NodeProto[][];
  private readonly branchOutputs: ValueInfoProto[][];
  private readonly mainOutputs: ValueInfoProto[] = [];
  private readonly ifOutputs: string[] = [];

  constructor(
    private readonly main: GraphIndex,
    private readonly site: Site,
  ) {
    this.nodes = site.graphs.map(() => []);
    this.branchOutputs = site.graphs.map(() => []);
  }

  get changed(): boolean {
    return this.mainOutputs.length > 0;
  }

  /**
   * Exposes `sources[k]` (one value per graph of the site) as the graph output `name`. `headsFromBatch`: the
   * sources are attention probabilities [batch·heads, T, S], reshaped to [batch, heads, T, S] with the batch
   * size read from the main graph's token input.
   */
  add(name: string, sources: string[], headsFromBatch = false): void {
    if (this.main.graphOutputs.has(name)) {
      return; // already exposed (by an earlier rewrite or by the exporter)
    }
    if (this.main.producer.has(name) || this.main.graphInputs.has(name) || this.main.initializers.has(name)) {
      throw new LensError('MODEL_CORRUPT', `Cannot expose ${name}: the model already has a value with that name.`);
    }
    this.site.graphs.forEach((graph, k) => {
      // In If branches, each branch makes its own uniquely named value; the If node outputs `name`.
      const inner = this.site.ifNode ? `${name}/${k === 0 ? 'then_branch' : 'else_branch'}` : name;
      if (headsFromBatch) this.nodes[k].push(...this.reshapeToHeads(sources[k]!, inner));
      else this.nodes[k].push(makeNode('Identity', [sources[k]!], [inner], `/lm_lens/${inner}/Identity`));
      const info = headsFromBatch
        ? makeTensorValueInfo(inner, graph.elemTypeOf(sources[k]!), ['batch', 'heads', 'query', 'key'])
        : valueInfoLike(graph, inner, sources[k]!);
      if (this.site.ifNode) {
        this.branchOutputs[k].push(info);
      }
      if (k === 0) {
        this.mainOutputs.push({ ...info, name });
      }
    });
    if (this.site.ifNode) {
      this.ifOutputs.push(name);
    }
  }

  /**
   * Reshape(source, Concat(Shape(tokens)[0], -1, Shape(source)[1:3])): [batch·heads, T, S] -> [batch, heads, T, S].
   * torch's nn.MultiheadAttention lays the first axis out batch-major (b·heads + h), so this is exact. Gather and
   * Constant nodes rather than Slice or Shape's start/end keep it valid in every opset.
   */
  private reshapeToHeads(source: string, out: string): NodeProto[] {
    const tokens = batchInputOf(this.main);
    if (!tokens) {
      throw new LensError('MODEL_CORRUPT', `Cannot expose ${out}: the model has no input to read the batch size from.`);
    }
    const at = (step: string): string => `/lm_lens/${out}/${step}`;
    const constant = (step: string, values: number[]): NodeProto =>
      makeNode('Constant', [], [at(step)], at(step), { value: makeInt64Tensor(at(step), [values.length], values) });
    return [
      makeNode('Shape', [tokens], [at('input_shape')], at('Shape')),
      constant('first', [0]),
      makeNode('Gather', [at('input_shape'), at('first')], [at('batch')], at('Gather'), { axis: 0 }),
      makeNode('Shape', [source], [at('scores_shape')], at('Shape_1')),
      constant('query_key_axes', [1, 2]),
      makeNode('Gather', [at('scores_shape'), at('query_key_axes')], [at('query_key')], at('Gather_1'), { axis: 0 }),
      constant('heads', [-1]),
      makeNode('Concat', [at('batch'), at('heads'), at('query_key')], [at('shape')], at('Concat'), { axis: 0 }),
      makeNode('Reshape', [source, at('shape')], [out], at('Reshape')),
    ];
  }

  /** Writes the additions into the decoded model (fresh arrays: decoded ones may be shared and frozen). */
  apply(): void {
    this.site.graphs.forEach((graph, k) => {
      graph.graph.node = [...(graph.graph.node ?? []), ...this.nodes[k]];
      if (this.site.ifNode) {
        graph.graph.output = [...(graph.graph.output ?? []), ...this.branchOutputs[k]];
      }
    });
    if (this.site.ifNode) {
      this.site.ifNode.output = [...(this.site.ifNode.output ?? []), ...this.ifOutputs];
    }
    this.main.graph.output = [...(this.main.graph.output ?? []), ...this.mainOutputs];
  }
}

/** The graph input whose first axis is the batch: input_ids (or an alias) when there is one, else the first input. */
function batchInputOf(main: GraphIndex): string | undefined {
  const inputs = [...main.graphInputs];
  return inputs.find((name) => /^(input_ids|input_word_ids)(:\d+)?$/.test(name)) ?? inputs[0];
}

/** A value info named `name` with the element type (and declared shape, if any) of `source`. */
function valueInfoLike(graph: GraphIndex, name: string, source: string): ValueInfoProto {
  const info = makeTensorValueInfo(name, graph.elemTypeOf(source));
  const declared = graph.valueInfo.get(source)?.type?.tensor_type?.shape?.dim;
  if (declared && info.type?.tensor_type) {
    info.type.tensor_type.shape = { dim: declared };
  }
  return info;
}

/**
 * Adds `attentions.{i}` and `hidden_states.{i}` graph outputs to an unfused transformer export
 * (also to a merged decoder, whose layers sit in both branches of an If). Throws MODEL_CORRUPT
 * when the bytes are not an ONNX model. When attention is fused or not found, `attentions` is
 * empty and `explanations.attentions` says why (hidden states may still be there).
 */
export function exposeOutputs(modelBytes: Uint8Array, options: ExposeOptions = {}): ExposeResult {
  const wantAttentions = options.attentions ?? true;
  const wantHidden = options.hiddenStates ?? true;
  const sourceSha256 = options.sourceSha256 ?? sha256Hex(modelBytes);

  let model: ModelProto;
  try {
    model = decodeModel(modelBytes);
  } catch (error) {
    throw modelCorrupt(`Not a readable ONNX model: ${(error as Error).message}`, error);
  }
  const graph = model.graph;
  if (!graph || !graph.node || graph.node.length === 0) {
    throw modelCorrupt('The ONNX model has no graph.');
  }
  const externalData = (graph.initializer ?? []).some((t) => t.data_location === 1);
  if (options.headGather !== undefined) {
    const logits = options.headGather;
    return soleRewrite('headGather', () => gatherBeforeHead(model, logits), model, modelBytes, sourceSha256, externalData);
  }
  if (options.kvAppend) {
    return soleRewrite('kvAppend', () => exposeNewKv(model), model, modelBytes, sourceSha256, externalData);
  }
  // ORT-optimised exports: com.microsoft.Attention written out first, so that its Softmax can be found below
  const decomposition: AttentionDecomposition = wantAttentions ? decomposeFusedAttention(model) : { decomposed: [], refused: [] };
  const main = new GraphIndex(graph);
  const fusedAttention = findFusedAttentionIn(main);
  const fused = fusedAttention.length > 0;

  let site: Site = { graphs: [main], softmaxes: [fused ? [] : findAttentionSoftmaxesIn(main)], layers: [[]] };
  if (!fused && site.softmaxes[0].length === 0) {
    site = findBranchSite(main, wantHidden) ?? site;
  }
  if (wantHidden && !site.ifNode) {
    site.layers = [findLayerOutputsIn(main, site.softmaxes[0])];
  }

  const explanations: ExposeMapping['explanations'] = {};
  if (wantAttentions && site.softmaxes[0].length === 0) {
    explanations.attentions = fused ? fusedExplanation(fusedAttention, decomposition.refused) : noAttentionExplanation(main);
  }
  if (wantHidden && site.layers[0].length === 0) {
    explanations.hiddenStates = noLayersExplanation();
  }

  const adder = new OutputAdder(main, site);
  const attentions: ExposedOutput[] = [];
  const hiddenStates: ExposedOutput[] = [];
  if (wantAttentions) {
    site.softmaxes[0].forEach((s, i) => {
      const name = `attentions.${s.index}`;
      adder.add(name, site.softmaxes.map((perGraph) => perGraph[i].output), s.rank === 3);
      attentions.push({ name, layer: s.layer, source: s.output, node: s.node });
    });
  }
  if (wantHidden) {
    site.layers[0].forEach((h, i) => {
      const name = `hidden_states.${h.index}`;
      adder.add(name, site.layers.map((perGraph) => perGraph[i].output));
      hiddenStates.push({ name, layer: h.layer, source: h.output, node: h.node });
    });
  }

  const mapping: ExposeMapping = {
    sourceSha256,
    attentions,
    hiddenStates,
    explanations,
    fusedAttention,
    decomposedAttention: decomposition.decomposed,
  };
  if (!adder.changed && decomposition.decomposed.length === 0) {
    return { ...mapping, bytes: modelBytes, changed: false, externalData };
  }
  adder.apply();
  return { ...mapping, bytes: encodeModel(model), changed: true, externalData };
}

/**
 * A rewrite that runs alone (ExposeOptions.headGather, kvAppend): none of the attention or block-output searches
 * above run, and the mapping lists no exposed outputs. `rewrite` changes the model in place and returns what it did,
 * or why it could not (a string) having left it as it was.
 */
function soleRewrite<K extends 'headGather' | 'kvAppend'>(
  key: K,
  rewrite: () => NonNullable<ExposeMapping[K]> | string,
  model: ModelProto,
  modelBytes: Uint8Array,
  sourceSha256: string,
  externalData: boolean,
): ExposeResult {
  const mapping: ExposeMapping = {
    sourceSha256,
    attentions: [],
    hiddenStates: [],
    explanations: {},
    fusedAttention: [],
    decomposedAttention: [],
  };
  const done = rewrite();
  if (typeof done === 'string') {
    mapping.explanations[key] = done;
    return { ...mapping, bytes: modelBytes, changed: false, externalData };
  }
  return { ...mapping, [key]: done, bytes: encodeModel(model), changed: true, externalData };
}

/**
 * Cache file stem for a source model and the options: `<sha256>.<a|-><h|->.v<version>`, or
 * `<sha256>.head-<logits>.v<version>` for a head gather, `<sha256>.kv.v<version>` for the new-keys/values outputs.
 */
export function exposeCacheKey(sourceSha256: string, options: ExposeOptions = {}): string {
  if (options.headGather !== undefined) {
    return `${sourceSha256}.head-${options.headGather.replace(/[^\w.-]/g, '_')}.v${REWRITE_VERSION}`;
  }
  if (options.kvAppend) return `${sourceSha256}.kv.v${REWRITE_VERSION}`;
  const a = options.attentions ?? true ? 'a' : '-';
  const h = options.hiddenStates ?? true ? 'h' : '-';
  return `${sourceSha256}.${a}${h}.v${REWRITE_VERSION}`;
}

export interface CachedExpose {
  /** The model to load: the rewritten copy, or the source itself when nothing was added. */
  path: string;
  mapping: ExposeMapping;
}

async function writeAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

interface CacheEntry extends ExposeMapping {
  /** The rewritten model file, or null when the source is used as it is. */
  model: string | null;
}

async function readCacheEntry(jsonFile: string): Promise<CacheEntry | undefined> {
  try {
    const entry = JSON.parse(await readFile(jsonFile, 'utf8')) as CacheEntry;
    if (entry.model !== null) {
      await access(entry.model);
    }
    return entry;
  } catch {
    return undefined; // missing, unreadable or its model file is gone: rebuild
  }
}

/**
 * Answers already given in this process, per source file and options, while the file's stamp (size, mtime) is
 * unchanged: generation asks per request, and hashing a model each time would cost more than the request.
 */
const answered = new StampedCache<CachedExpose>();

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/**
 * exposeOutputs for a model file, cached in `cacheDir` under the sha256 of the source
 * (`sourceSha256` skips hashing when known, e.g. from a download manifest). The mapping JSON is
 * written last, so a half-written cache entry is never used. A model with external data gets its
 * rewritten copy next to the source (external data paths are relative to the model file).
 * Concurrent calls for the same model share one promise; a failure is not cached. A source file replaced on disk is
 * noticed within STAMP_MAX_AGE_MS, and so is a rewritten copy deleted since (a cleared cache folder): it is written again.
 */
export async function exposeOutputsCached(
  modelPath: string,
  cacheDir: string,
  options: ExposeOptions = {},
  sourceSha256?: string,
): Promise<CachedExpose> {
  const source = path.resolve(modelPath);
  const memoKey = `${source}\0${path.resolve(cacheDir)}\0${exposeCacheKey('', options)}`;
  return answered.get(memoKey, source, resolveExpose, async (known) => known.path === source || exists(known.path));

  async function resolveExpose(): Promise<CachedExpose> {
    let bytes: Buffer | undefined;
    let sha = sourceSha256;
    if (sha) {
      await access(source); // a deleted source is an error even while its rewritten copy is cached
    } else {
      bytes = await readFile(source);
      sha = sha256Hex(bytes);
    }
    const key = exposeCacheKey(sha, options);
    const jsonFile = path.join(cacheDir, `${key}.json`);
    const cached = await readCacheEntry(jsonFile);
    if (cached) {
      const { model, ...mapping } = cached;
      return { path: model ?? source, mapping };
    }
    bytes ??= await readFile(source);
    const { bytes: newBytes, changed, externalData, ...mapping } = exposeOutputs(bytes, { ...options, sourceSha256: sha });
    await mkdir(cacheDir, { recursive: true });
    let target = source;
    if (changed) {
      target = externalData
        ? path.join(path.dirname(target), `${path.basename(target, '.onnx')}.${key}.onnx`)
        : path.resolve(cacheDir, `${key}.onnx`);
      await writeAtomic(target, newBytes);
    }
    const entry: CacheEntry = { ...mapping, model: changed ? target : null };
    await writeAtomic(jsonFile, JSON.stringify(entry, null, 2));
    return { path: target, mapping };
  }
}
