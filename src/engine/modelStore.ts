/**
 * Finds model folders (Hugging Face / transformers.js layout, see api.ts) in a list of directories:
 * the shipped `media/models/` first, then the user's folders. Pure Node: never loads ONNX Runtime.
 */
import { constants } from 'node:fs';
import type { Stats } from 'node:fs';
import { access, readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ModelInfo, ModelKind } from './api';
import { LensError, modelCorrupt, toLensError } from './errors';
import { modelDirState } from './hub/manifest';
import { describeOutputs, findLogitsOutput } from './models/io';
import { OnnxFormatError, readOnnxSignature, type TensorInfo } from './onnxSignature';
import { fileStamp, STAMP_MAX_AGE_MS } from './fileStamp';
import { PromiseCache } from './promiseCache';
import { isTaggerConfig, taggerFiles, taggerInfoOf, TAGGER_MODEL_TYPE } from './tasks/tag/taggers';

export interface ModelDirectory {
  path: string;
  source: ModelInfo['source'];
}

/** A folder that looks like a model but cannot be used; reported as MODEL_CORRUPT when asked for. */
export interface ModelProblem {
  id: string;
  path: string;
  source: ModelInfo['source'];
  error: LensError;
}

export interface ModelScan {
  models: ModelInfo[];
  problems: ModelProblem[];
}

/** config.json `model_type` -> what the engine does with it. */
const KIND_BY_MODEL_TYPE: Readonly<Record<string, ModelKind>> = {
  bert: 'masked-lm',
  distilbert: 'masked-lm',
  roberta: 'masked-lm',
  'xlm-roberta': 'masked-lm',
  camembert: 'masked-lm',
  albert: 'masked-lm',
  electra: 'masked-lm',
  deberta: 'masked-lm',
  'deberta-v2': 'masked-lm',
  mobilebert: 'masked-lm',
  modernbert: 'masked-lm',
  gpt2: 'causal-lm',
  gpt_neo: 'causal-lm',
  gpt_neox: 'causal-lm',
  gptj: 'causal-lm',
  gpt_bigcode: 'causal-lm',
  llama: 'causal-lm',
  mistral: 'causal-lm',
  qwen2: 'causal-lm',
  phi: 'causal-lm',
  opt: 'causal-lm',
  bloom: 'causal-lm',
  codegen: 'causal-lm',
  elmo: 'bilm',
  nnlm: 'nnlm',
  word2vec: 'static-vectors',
  glove: 'static-vectors',
  fasttext: 'static-vectors',
};

export function kindOfModelType(modelType: string): ModelKind | undefined {
  return Object.hasOwn(KIND_BY_MODEL_TYPE, modelType) ? KIND_BY_MODEL_TYPE[modelType] : undefined;
}

/** config.json `architectures` whose head is not a masked-LM head. */
const OTHER_HEAD = /For(QuestionAnswering|SequenceClassification|TokenClassification|MultipleChoice|NextSentencePrediction)$/;
const MASKED_LM_HEAD = /For(MaskedLM|PreTraining)$/;
const QA_OUTPUTS = ['start_logits', 'end_logits'];

/**
 * Why a model whose `model_type` is a masked LM's has no masked-LM head, from config.json `architectures` and the
 * graph's outputs; undefined when it is a masked LM. A question-answering or classification export is not one.
 */
export function notMaskedLmReason(config: Record<string, unknown>, outputs: readonly TensorInfo[]): string | undefined {
  const architectures = Array.isArray(config['architectures']) ? config['architectures'].filter((a) => typeof a === 'string') : [];
  const has = ` (outputs: ${describeOutputs(outputs)})`;
  const otherHead = architectures.find((a) => OTHER_HEAD.test(a));
  if (otherHead) return `${otherHead}: a task head, not a masked-LM head${has}`;
  if (outputs.some((o) => QA_OUTPUTS.includes(o.name))) return `a question-answering head${has}`;
  const vocabSize = config['vocab_size'];
  if (!findLogitsOutput(outputs, typeof vocabSize === 'number' ? vocabSize : undefined)) {
    const what = architectures.length > 0 ? `${architectures.join(', ')}: ` : '';
    const bare = architectures.some((a) => !MASKED_LM_HEAD.test(a) && /Model$/.test(a)) ? 'a bare encoder, ' : '';
    return `${what}${bare}no masked-LM logits [batch, sequence, vocab]${has}`;
  }
  return undefined;
}

/** Where a model folder keeps its ONNX graph. */
export const ONNX_FILE = path.join('onnx', 'model.onnx');

/** Files each kind needs besides config.json, relative to the model folder. */
function requiredFiles(kind: ModelKind): string[] {
  return kind === 'static-vectors' ? ['vectors.bin', 'vocab.txt'] : [ONNX_FILE];
}

/** `a FIFO (named pipe)` for a special file, undefined for a regular file or a folder. */
function specialKind(stats: Stats): string | undefined {
  if (stats.isFile() || stats.isDirectory()) return undefined;
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

function specialFileError(file: string, kind: string): LensError {
  return modelCorrupt(`${file} is ${kind}, not a regular file: LM Lens does not open special files. Replace it with the real file.`);
}

/**
 * MODEL_CORRUPT when the folder, or a folder in it, holds a FIFO, socket or device (links followed): opening
 * a FIFO blocks until something writes to it, which would hang every command, so the scan never opens one.
 * Only names are read here (readdir, stat), nothing is opened.
 */
async function checkNoSpecialFiles(folder: string, depth = 2): Promise<void> {
  const entries = await readdir(folder, { withFileTypes: true });
  for (const entry of entries) {
    const file = path.join(folder, entry.name);
    if (entry.isFile()) continue;
    let stats: Stats;
    try {
      stats = await stat(file); // follows a link; a dangling one is left to the checks that need the file
    } catch {
      continue;
    }
    const kind = specialKind(stats);
    if (kind) throw specialFileError(file, kind);
    if (stats.isDirectory() && depth > 1) await checkNoSpecialFiles(file, depth - 1);
  }
}

/** Reads and parses a model folder's config.json; MODEL_CORRUPT when missing or not a JSON object. */
export async function readModelConfig(folder: string): Promise<Record<string, unknown>> {
  const file = path.join(folder, 'config.json');
  let text: string;
  try {
    const kind = specialKind(await stat(file));
    if (kind) throw specialFileError(file, kind); // never open it (see checkNoSpecialFiles)
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (error instanceof LensError) throw error;
    throw modelCorrupt(`${folder}: config.json is missing or unreadable (${errnoText(error)}).`, error);
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (error) {
    throw modelCorrupt(`${file} is not valid JSON (${toLensError(error).message}).`, error);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw modelCorrupt(`${file} must hold a JSON object.`);
  }
  return config as Record<string, unknown>;
}

async function inspectFolder(id: string, folder: string, source: ModelInfo['source']): Promise<ModelInfo> {
  await checkNoSpecialFiles(folder);
  const config = await readModelConfig(folder);
  const modelType = config['model_type'];
  if (typeof modelType !== 'string' || modelType === '') {
    throw modelCorrupt(`${path.join(folder, 'config.json')} has no "model_type".`);
  }
  // a tagger (an ELMo head, or any ...ForTokenClassification export) is one whatever its model_type says
  const tagger = isTaggerConfig(config);
  let kind = tagger ? 'tagger' : kindOfModelType(modelType);
  if (!kind) {
    const known = [...Object.keys(KIND_BY_MODEL_TYPE), TAGGER_MODEL_TYPE].join(', ');
    throw modelCorrupt(`${folder}: model_type "${modelType}" is not supported (supported: ${known}).`);
  }
  for (const file of [...requiredFiles(kind), ...(tagger ? taggerFiles(config) : [])]) {
    try {
      await access(path.join(folder, file), constants.R_OK);
    } catch (error) {
      throw modelCorrupt(`${folder}: ${file} is missing (a ${kind} model needs it).`, error);
    }
  }
  let inputs: string[] = [];
  let outputs: string[] = [];
  let note: string | undefined;
  let taggerInfo: ModelInfo['tagger'];
  if (kind !== 'static-vectors') {
    const onnxFile = path.join(folder, ONNX_FILE);
    let outputInfo: TensorInfo[];
    try {
      ({ inputs, outputs, outputInfo } = await readOnnxSignature(onnxFile));
    } catch (error) {
      const reason = error instanceof OnnxFormatError ? error.message : errnoText(error);
      throw modelCorrupt(`${onnxFile} is not a readable ONNX model: ${reason}.`, error);
    }
    if (tagger) taggerInfo = taggerInfoOf(config, { inputs, outputInfo }, folder);
    const reason = kind === 'masked-lm' ? notMaskedLmReason(config, outputInfo) : undefined;
    if (reason) {
      kind = 'encoder';
      note = `Not a masked LM: ${reason}. Fill cannot use it; the attention view can.`;
    }
  }
  return { id, modelType, kind, ...(note ? { note } : {}), path: folder, inputs, outputs, source, ...(taggerInfo ? { tagger: taggerInfo } : {}) };
}

function errnoText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code ?? toLensError(error).message;
}

async function listFolders(directory: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return []; // a configured folder that does not exist (yet)
    throw error;
  }
  const names: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const isFolder = entry.isDirectory() || (entry.isSymbolicLink() && (await isDirectory(path.join(directory, entry.name))));
    if (isFolder) names.push(entry.name);
  }
  return names.sort();
}

async function isDirectory(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isDirectory();
  } catch {
    return false;
  }
}

/** The stamps of a model folder's config.json and the files its kind needs: what changes when it is replaced. */
async function folderStamp(model: Pick<ModelInfo, 'path' | 'kind'>): Promise<string> {
  const files = ['config.json', ...requiredFiles(model.kind)];
  return (await Promise.all(files.map((f) => fileStamp(path.join(model.path, f))))).join('|');
}

/** At most this many entries of a problem folder are stamped (a models folder set to a home folder lists many). */
const PROBLEM_STAMP_ENTRIES = 256;

/**
 * The stamps of a folder listed as a problem, of its entries and of its subfolders' entries (its `onnx/`): which file
 * mends it (config.json edited in place, a missing tokenizer copied in, a download finished) is not known in advance.
 */
async function problemStamp(folder: string): Promise<string> {
  const files = [folder];
  const queue = [folder];
  for (let depth = 0; depth < 2 && queue.length > 0 && files.length < PROBLEM_STAMP_ENTRIES; depth++) {
    for (const dir of queue.splice(0)) {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
        if (files.length >= PROBLEM_STAMP_ENTRIES) break;
        const file = path.join(dir, entry.name);
        files.push(file);
        if (entry.isDirectory()) queue.push(file);
      }
    }
  }
  const stamps = await Promise.all(files.map((f) => fileStamp(f)));
  return files.map((f, i) => `${path.relative(folder, f)}=${stamps[i]}`).join('|');
}

export class ModelStore {
  private readonly scans = new PromiseCache<'scan', ModelScan>();
  /**
   * Each listed model's folderStamp, each problem folder's problemStamp, and each model directory's stamp (its
   * entries), when the scan read them.
   */
  private stamps = new Map<string, string>();
  private directoryStamps: string[] = [];
  /** When `get` / `defaultFor` last found each model's files unchanged (they look at most every STAMP_MAX_AGE_MS). */
  private readonly confirmed = new Map<string, number>();

  constructor(readonly directories: readonly ModelDirectory[]) {}

  /**
   * Every model folder in every directory; memoised until `refresh()`, or until a request names a model whose files
   * changed on disk since (`get`, `defaultFor`: two stats a request) or one the scan did not find usable.
   */
  scan(): Promise<ModelScan> {
    return this.scans.get('scan', () => this.scanNow());
  }

  /** Forgets the last scan (call after the user adds or removes a model). */
  refresh(): void {
    this.scans.clear();
    this.confirmed.clear();
  }

  /** The usable models, shipped directory first. */
  async list(): Promise<ModelInfo[]> {
    return (await this.scan()).models;
  }

  /**
   * The scan, read again first when a model directory's entries (a folder copied in or deleted by hand), a listed
   * model's files or a problem folder's files changed since: what a model picker shows. A stat per directory, two per
   * model and one per file of a problem folder, so not for the paths a hover takes (`list`, `get`).
   */
  async current(): Promise<ModelScan> {
    const scan = await this.scan();
    const directories = await Promise.all(this.directories.map((d) => fileStamp(d.path)));
    const models = await Promise.all(scan.models.map((m) => this.unchanged(m)));
    const problems = await Promise.all(scan.problems.map(async (p) => this.stamps.get(p.path) === (await problemStamp(p.path))));
    if (directories.join('|') === this.directoryStamps.join('|') && [...models, ...problems].every(Boolean)) return scan;
    this.refresh();
    return this.scan();
  }

  /** The model with this id; MODEL_CORRUPT for a broken folder, MODEL_NOT_FOUND listing the ids there are. */
  async get(id: string): Promise<ModelInfo> {
    let { models, problems } = await this.scan();
    let model = models.find((m) => m.id === id);
    if (!model || !(await this.stillCurrent(model))) {
      // replaced, removed, added or mended on disk since the scan (not through Add / Remove Model): look again
      this.refresh();
      ({ models, problems } = await this.scan());
      model = models.find((m) => m.id === id);
    }
    if (model) return model;
    const problem = problems.find((p) => p.id === id);
    if (problem) throw problem.error;
    throw new LensError('MODEL_NOT_FOUND', `No model "${id}". ${this.availableText(models)}`);
  }

  /** The default model of a kind: the first shipped one, else the first user one. */
  async defaultFor(kind: ModelKind): Promise<ModelInfo> {
    const pick = (models: readonly ModelInfo[]): ModelInfo | undefined => {
      const ofKind = models.filter((m) => m.kind === kind);
      return ofKind.find((m) => m.source === 'shipped') ?? ofKind[0];
    };
    let models = await this.list();
    let model = pick(models);
    if (model && !(await this.stillCurrent(model))) {
      this.refresh();
      models = await this.list();
      model = pick(models);
    }
    if (model) return model;
    throw new LensError('MODEL_NOT_FOUND', `No ${kind} model is installed. ${this.availableText(models)}`);
  }

  /**
   * The model a request names, or the default of the first kind in `kinds`; BAD_INPUT when the named model
   * is of a kind the operation does not support.
   */
  async resolve(id: string | undefined, kinds: readonly ModelKind[], operation: string): Promise<ModelInfo> {
    if (id === undefined) {
      const [first] = kinds;
      if (!first) throw new LensError('INTERNAL', `${operation}: no model kind supports it`);
      return this.defaultFor(first);
    }
    const model = await this.get(id);
    if (!kinds.includes(model.kind)) {
      throw new LensError(
        'BAD_INPUT',
        `Model "${id}" is a ${model.kind} model; ${operation} needs a ${kinds.join(' or ')} model.${model.note ? ` ${model.note}` : ''}`,
      );
    }
    return model;
  }

  /** True when the model's files are those the last scan read. */
  private async unchanged(model: ModelInfo): Promise<boolean> {
    return this.stamps.get(model.path) === (await folderStamp(model));
  }

  /** `unchanged`, trusted for STAMP_MAX_AGE_MS after it last said so (a hover resolves several models). */
  private async stillCurrent(model: ModelInfo): Promise<boolean> {
    const now = performance.now();
    if (now - (this.confirmed.get(model.path) ?? -Infinity) < STAMP_MAX_AGE_MS) return true;
    const same = await this.unchanged(model);
    if (same) this.confirmed.set(model.path, now);
    return same;
  }

  private availableText(models: readonly ModelInfo[]): string {
    const where = this.directories.map((d) => d.path).join(', ') || '(no model directories)';
    if (models.length === 0) return `No models are installed (searched: ${where}).`;
    return `Available: ${models.map((m) => m.id).join(', ')} (searched: ${where}).`;
  }

  private async scanNow(): Promise<ModelScan> {
    const stamps = new Map<string, string>();
    const directoryStamps = await Promise.all(this.directories.map((d) => fileStamp(d.path)));
    const perDirectory = await Promise.all(
      this.directories.map(async (directory) => {
        const names = await listFolders(directory.path);
        return Promise.all(
          names.map(async (id) => {
            const folder = path.resolve(directory.path, id);
            try {
              if (modelDirState(folder) === 'partial') {
                // never a model: files may be missing or half-written (see hub/manifest.ts)
                throw modelCorrupt(`${folder} is an unfinished download: add the model again to resume it, or remove it.`);
              }
              const model = await inspectFolder(id, folder, directory.source);
              stamps.set(folder, await folderStamp(model));
              return { id, model };
            } catch (error) {
              stamps.set(folder, await problemStamp(folder));
              return { id, problem: { id, path: folder, source: directory.source, error: toLensError(error, 'MODEL_CORRUPT') } };
            }
          }),
        );
      }),
    );
    const seen = new Set<string>();
    const scan: ModelScan = { models: [], problems: [] };
    for (const entry of perDirectory.flat()) {
      if (seen.has(entry.id)) continue; // the first directory wins on a clash
      seen.add(entry.id);
      if (entry.model) scan.models.push(entry.model);
      else if (entry.problem) scan.problems.push(entry.problem);
    }
    this.stamps = stamps;
    this.directoryStamps = directoryStamps;
    return scan;
  }
}
