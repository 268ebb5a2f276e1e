/**
 * `lm-lens`: the engine from a terminal. JSON on stdout; on failure `{"error":{"code","message"}}` on
 * stderr and exit 2 for input errors (BAD_INPUT, MODEL_NOT_FOUND, MODEL_CORRUPT, INPUT_TOO_LONG), 1 otherwise.
 *
 * Commands are a table: to add one, add an entry to COMMANDS (options, usage, run).
 */
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { CompletionEvalRequest, EvalProgress, GenerateProgress, GenerateRequest, PairsEvalRequest, ScoreProgress } from './engine/api';
import { nestAttentions } from './engine/tasks/attention/attentionTensor';
import { Engine } from './engine/engine';
import { readTextFile } from './engine/textFile';
import { LensError, badInput, isInputError, toLensError } from './engine/errors';
import { throttledProgress } from './progressLines';
import { SENSE_LAYERS, type SenseIndexProgress, type SenseLayer } from './engine/senses/types';
import type { ModelDirectory } from './engine/modelStore';
import { DEFAULT_ENDPOINT, describeProgress, type DownloadProgress, type Variant } from './engine/hub';
import {
  checkUserDataDir,
  describeInstallFailure,
  installModel,
  removeInstalledModel,
  userDataDir,
  userModelsDir,
} from './engine/modelInstall';

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

interface CommandContext {
  engine: Engine;
  /** Aborted by Ctrl+C (SIGINT): long commands stop at their next step with CANCELLED. */
  signal: AbortSignal;
}

interface Command {
  summary: string;
  /** Arguments after the command name, for --help. */
  usage: string;
  options: Options;
  /** Name under which the command's one positional argument is put into `values` (e.g. `add-model REPO`). */
  positional?: string;
  /** Returns what is printed as JSON. */
  run(values: Values, ctx: CommandContext): Promise<unknown>;
}

const SHIPPED_MODELS = path.join(__dirname, '..', 'media', 'models');
const WORKER = path.join(__dirname, 'worker.js');

const GLOBAL_OPTIONS: Options = {
  'models-dir': { type: 'string', multiple: true },
  'only-models-dir': { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
};

const COMMANDS: Record<string, Command> = {
  models: {
    summary: 'List the models found in the model directories.',
    usage: '',
    options: {},
    async run(_values, { engine }) {
      const models = await engine.listModels();
      return models.map(({ id, kind, note, modelType, path: folder, inputs, outputs, tagger }) => ({
        id,
        kind,
        ...(note ? { note } : {}),
        modelType,
        path: folder,
        inputs,
        outputs,
        ...(tagger ? { tagger } : {}),
      }));
    },
  },
  'add-model': {
    summary:
      'Download a Hugging Face Hub repository in the transformers.js ONNX layout (e.g. Xenova/bert-base-uncased) ' +
      'into a models folder; prints {id, path, files}; progress on stderr. Run again to resume.',
    usage: 'REPO [--endpoint URL] [--variant fp32|quantized] [--revision R] [--dir DIR] [--id ID] [--force]',
    positional: 'repo',
    options: {
      endpoint: { type: 'string' },
      variant: { type: 'string' },
      revision: { type: 'string' },
      dir: { type: 'string' },
      id: { type: 'string' },
      force: { type: 'boolean' },
    },
    async run(values, { signal }) {
      const repo = values['repo'];
      if (typeof repo !== 'string') throw badInput('Give the repository: lm-lens add-model OWNER/NAME (e.g. Xenova/bert-base-uncased).');
      const variant = optional(values, 'variant') ?? 'fp32';
      if (variant !== 'fp32' && variant !== 'quantized') throw badInput(`--variant must be fp32 or quantized (got "${variant}").`);
      const endpoint = optional(values, 'endpoint') ?? process.env['HF_ENDPOINT'] ?? DEFAULT_ENDPOINT;
      const id = optional(values, 'id');
      const revision = optional(values, 'revision');
      const token = process.env['HF_TOKEN'] ?? process.env['HUGGING_FACE_HUB_TOKEN'];
      try {
        const result = await installModel({
          repo,
          endpoint,
          variant: variant as Variant,
          destRoot: modelsDirFor(values),
          signal,
          onProgress: progressLines(),
          ...definedOnly({ id, revision }),
          ...(token ? { token } : {}),
          ...(values['force'] === true ? { force: true } : {}),
        });
        if (result.alreadyPresent) process.stderr.write(`${result.id} is already installed in ${result.path}\n`);
        return { id: result.id, path: result.path, files: result.files };
      } catch (error) {
        throw new LensError(toLensError(error).code, describeInstallFailure(error, endpoint), { cause: error });
      }
    },
  },
  'remove-model': {
    summary: 'Delete a model that add-model downloaded (never a folder LM Lens did not download).',
    usage: 'ID [--dir DIR]',
    positional: 'id',
    options: { dir: { type: 'string' } },
    async run(values) {
      const id = values['id'];
      if (typeof id !== 'string') throw badInput('Give the model id: lm-lens remove-model ID (see lm-lens models).');
      return { removed: await removeInstalledModel(modelsDirFor(values), id) };
    },
  },
  embed: {
    summary: "Each layer's vector for one occurrence of a word in a text (ELMo).",
    usage: '--text TEXT --word WORD [--occurrence N] [--model ID]',
    options: {
      text: { type: 'string' },
      word: { type: 'string' },
      occurrence: { type: 'string' },
      model: { type: 'string' },
    },
    async run(values, { engine }) {
      const text = required(values, 'text');
      const word = required(values, 'word');
      const occurrence = ifGiven(values, 'occurrence', positiveInteger);
      return engine.embed({ text, word, ...definedOnly({ occurrence, model: optional(values, 'model') }) });
    },
  },
  tag: {
    summary:
      'A tag and its probability for every word of a text (part of speech with the shipped taggers; any Hugging Face ' +
      'token-classification export): {model, form, tagSet, words: [{word, start, end, tag, probability, top}], runs}.',
    usage: '--text TEXT [--model ID] [--top-k K]',
    options: {
      text: { type: 'string' },
      model: { type: 'string' },
      'top-k': { type: 'string' },
    },
    async run(values, { engine, signal }) {
      const model = optional(values, 'model');
      const topK = ifGiven(values, 'top-k', positiveInteger);
      return engine.tag({ text: required(values, 'text'), ...definedOnly({ model, topK }) }, signal);
    },
  },
  sense: {
    summary:
      'Which WordNet sense a word has in a text: lemma, part of speech, sense key, gloss, confidence, runner-ups, and ' +
      'the part-of-speech tag used (when a tagger is installed, only the tagged part of speech\'s senses are scored ' +
      'when the tagger is sure; --no-pos-filter scores them all). An added ELMo or BERT model needs its sense vectors ' +
      'built once first (lm-lens senses build --model ID).',
    usage: '--text TEXT --word WORD [--occurrence N] [--model ID] [--layer token|lstm1|lstm2|mean] [--tagger ID] [--no-pos-filter]',
    options: {
      text: { type: 'string' },
      word: { type: 'string' },
      occurrence: { type: 'string' },
      model: { type: 'string' },
      layer: { type: 'string' },
      tagger: { type: 'string' },
      'no-pos-filter': { type: 'boolean' },
    },
    async run(values, { engine, signal }) {
      const occurrence = ifGiven(values, 'occurrence', positiveInteger);
      const model = optional(values, 'model');
      const layer = optional(values, 'layer');
      const tagger = optional(values, 'tagger');
      if (layer !== undefined && !SENSE_LAYERS.includes(layer as SenseLayer)) {
        throw badInput(`--layer must be one of ${SENSE_LAYERS.join(', ')} (got "${layer}").`);
      }
      const result = await engine.sense(
        {
          text: required(values, 'text'),
          word: required(values, 'word'),
          ...definedOnly({ occurrence, model, layer: layer as SenseLayer | undefined, tagger }),
          ...(values['no-pos-filter'] === true ? { posFilter: false } : {}),
        },
        signal,
      );
      for (const id of result.missingSenseVectors) {
        process.stderr.write(`lm-lens: "${id}" has no sense vectors yet, so its vectors were not used; build them with: lm-lens senses build --model ${id}\n`);
      }
      return result;
    },
  },
  senses: {
    summary:
      'senses build --model ID: build the word-sense vectors of an added ELMo or BERT-style model (one pass over ' +
      "WordNet's ~28k example sentences: minutes to an hour), cached where `sense --model ID` finds them; progress " +
      'on stderr, Ctrl+C cancels. --limit N uses the first N sentences only (a quick, rougher build).',
    usage: 'build --model ID [--limit N]',
    positional: 'action',
    options: {
      model: { type: 'string' },
      limit: { type: 'string' },
    },
    async run(values, { engine, signal }) {
      const action = values['action'];
      if (action !== 'build') {
        throw badInput(
          action === undefined
            ? 'Give the action: lm-lens senses build --model ID.'
            : `Unknown action "${String(action)}" for senses; the one action is build (lm-lens senses build --model ID).`,
        );
      }
      const model = required(values, 'model');
      const limit = ifGiven(values, 'limit', positiveInteger);
      return engine.senses.buildSenseIndex(model, senseProgressLines(), signal, definedOnly({ limit }));
    },
  },
  fill: {
    summary: 'The most likely words for each [MASK] (or <mask>) in a text (masked LM).',
    usage: '--text TEXT [--top-k K] [--model ID]',
    options: {
      text: { type: 'string' },
      'top-k': { type: 'string' },
      model: { type: 'string' },
    },
    async run(values, { engine, signal }) {
      const topK = ifGiven(values, 'top-k', positiveInteger);
      const model = optional(values, 'model');
      return engine.fill({ text: required(values, 'text'), ...definedOnly({ topK, model }) }, signal);
    },
  },
  complete: {
    summary:
      'Continue a text with a causal LM (greedy unless --temperature is above 0). --heal: token healing, as ghost text ' +
      'does: the end of a half-typed word or a typed space is written again by the model, not repeated in the completion.',
    usage:
      '--text TEXT [--max-tokens N] [--temperature X] [--top-k K] [--top-p P] [--min-p P] [--repetition-penalty R] [--seed S] [--stop STR]... [--no-cache] [--stream] [--token-probs] [--heal] [--model ID]',
    options: {
      text: { type: 'string' },
      'max-tokens': { type: 'string' },
      temperature: { type: 'string' },
      'top-k': { type: 'string' },
      'top-p': { type: 'string' },
      'min-p': { type: 'string' },
      'repetition-penalty': { type: 'string' },
      seed: { type: 'string' },
      stop: { type: 'string', multiple: true },
      'no-cache': { type: 'boolean' },
      stream: { type: 'boolean' },
      'token-probs': { type: 'boolean' },
      heal: { type: 'boolean' },
      model: { type: 'string' },
    },
    async run(values, { engine, signal }) {
      const request: GenerateRequest = {
        text: required(values, 'text'),
        ...definedOnly({
          maxTokens: ifGiven(values, 'max-tokens', positiveInteger),
          temperature: ifGiven(values, 'temperature', decimal),
          topK: ifGiven(values, 'top-k', wholeNumber),
          topP: ifGiven(values, 'top-p', decimal),
          minP: ifGiven(values, 'min-p', decimal),
          repetitionPenalty: ifGiven(values, 'repetition-penalty', decimal),
          seed: ifGiven(values, 'seed', wholeNumber),
          stop: Array.isArray(values['stop']) ? values['stop'].map(String) : undefined,
          noCache: values['no-cache'] === true ? true : undefined,
          tokenProbs: values['token-probs'] === true ? true : undefined,
          heal: values['heal'] === true ? true : undefined,
          model: optional(values, 'model'),
        }),
      };
      // --stream: the text goes to stderr as it is generated, ended by a newline however generation ends
      const stream = values['stream'] === true ? (p: GenerateProgress) => process.stderr.write(p.text) : undefined;
      try {
        return await engine.generate(request, signal, stream);
      } finally {
        if (stream) process.stderr.write('\n');
      }
    },
  },
  score: {
    summary: "Each token's log-probability under a causal LM, and the text's perplexity. Progress on stderr for long texts.",
    usage: '(--text TEXT | --file FILE) [--model ID]',
    options: {
      text: { type: 'string' },
      file: { type: 'string' },
      model: { type: 'string' },
    },
    async run(values, { engine, signal }) {
      const file = optional(values, 'file');
      if ((file === undefined) === (values['text'] === undefined)) throw badInput('Give either --text or --file.');
      const text = file === undefined ? required(values, 'text') : await readTextFile(file);
      const model = optional(values, 'model');
      // a long file runs many windows (750 KB: a minute and more): say how far it is, at most every 2 s
      const lines = throttledProgress(() => 'score windows', (line) => process.stderr.write(line));
      const onProgress = ({ windows, total }: ScoreProgress): void => lines({ done: windows, total });
      return engine.score({ text, ...definedOnly({ model }) }, signal, onProgress);
    },
  },
  eval: {
    summary:
      'Scoreboards over a file: pairs (BLiMP-style .jsonl minimal pairs, or a folder of them: accuracy overall and by ' +
      'linguistics_term; causal LM, masked LM by pseudo-log-likelihood (--pll within-word-l2r: masking the rest of ' +
      'a word\'s pieces with each, Kauf & Ivanova 2023), or NNLM), cloze (lines "answer|answer<TAB>sentence ' +
      'with one [MASK]": top-1 / top-5 of a masked LM), perplexity (a causal LM over a text file), tags ("word<TAB>tag" ' +
      'lines, a blank line between sentences: a tagger\'s accuracy, by tag, and its confusions), completion (running ' +
      'text: ghost text at every Nth word against what the line goes on with, cut at several confidence thresholds), ' +
      'senses ("word<TAB>WordNet sense key<TAB>sentence" lines: how often the hover\'s sense is the gold one, by part ' +
      'of speech, and the misses; --model picks the contextual model as `sense` does). Progress on stderr.',
    usage: 'pairs|cloze|perplexity|tags|completion|senses --file FILE [--model ID] [pairs: --pll original|within-word-l2r] [completion: --every N --max-tokens N --repetition-penalty X --cursor word-end|after-space|mid-word --healing token|space|none] [senses: --no-pos-filter]',
    positional: 'task',
    options: {
      file: { type: 'string' },
      model: { type: 'string' },
      every: { type: 'string' },
      'max-tokens': { type: 'string' },
      'repetition-penalty': { type: 'string' },
      cursor: { type: 'string' },
      healing: { type: 'string' },
      pll: { type: 'string' },
      'no-pos-filter': { type: 'boolean' },
    },
    async run(values, { engine, signal }) {
      const task = values['task'];
      const file = required(values, 'file');
      const model = optional(values, 'model');
      const request = { file, ...definedOnly({ model }) };
      const onProgress = evalProgressLines();
      if (task === 'pairs') {
        const pll = optional(values, 'pll') as PairsEvalRequest['pll']; // checked by the engine
        return engine.evalPairs({ ...request, ...definedOnly({ pll }) }, signal, onProgress);
      }
      if (task === 'cloze') return engine.evalCloze(request, signal, onProgress);
      if (task === 'perplexity') return engine.evalPerplexity(request, signal, onProgress);
      if (task === 'tags') return engine.evalTags(request, signal, onProgress);
      if (task === 'senses') return engine.evalSenses({ ...request, ...(values['no-pos-filter'] === true ? { posFilter: false } : {}) }, signal, onProgress);
      if (task === 'completion') {
        const every = ifGiven(values, 'every', positiveInteger);
        const maxTokens = ifGiven(values, 'max-tokens', positiveInteger);
        const repetitionPenalty = ifGiven(values, 'repetition-penalty', decimal);
        const cursor = optional(values, 'cursor') as CompletionEvalRequest['cursor']; // both checked by the engine
        const healing = optional(values, 'healing') as CompletionEvalRequest['healing'];
        return engine.evalCompletion({ ...request, ...definedOnly({ every, maxTokens, repetitionPenalty, cursor, healing }) }, signal, onProgress);
      }
      const got = typeof task === 'string' ? ` (got "${task}")` : '';
      throw badInput(`Say what to evaluate: lm-lens eval pairs|cloze|perplexity|tags|completion|senses --file FILE${got}.`);
    },
  },
  attention: {
    summary: 'Every layer\'s and head\'s attention weights over a text: attentions[layer][head][query][key] (BERT, GPT-2).',
    usage: '--text TEXT [--model ID] [--max-tokens N] [--focus OFFSET]',
    options: {
      text: { type: 'string' },
      model: { type: 'string' },
      'max-tokens': { type: 'string' },
      focus: { type: 'string' },
    },
    async run(values, { engine, signal }) {
      const text = required(values, 'text');
      const model = optional(values, 'model');
      const maxTokens = ifGiven(values, 'max-tokens', positiveInteger);
      const focus = ifGiven(values, 'focus', wholeNumber);
      const result = await engine.attention({ text, topK: 0, ...definedOnly({ model, maxTokens, focus }) }, signal);
      const { layers, heads, tokens } = result;
      return {
        model: result.model,
        tokens,
        layers,
        heads,
        attentions: nestAttentions(result.attentions, { layers, heads, tokens: tokens.length }),
        truncated: result.truncated,
        ...(result.surprisal ? { surprisal: result.surprisal } : {}),
      };
    },
  },
};

function wholeNumber(values: Values, name: string): number {
  return integerFrom(values, name, 0);
}

function positiveInteger(values: Values, name: string): number {
  return integerFrom(values, name, 1);
}

function integerFrom(values: Values, name: string, least: 0 | 1): number {
  const text = required(values, name);
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < least) {
    throw badInput(`--${name} must be a whole number from ${least} up (got "${text}").`);
  }
  return value;
}

function decimal(values: Values, name: string): number {
  const text = required(values, name);
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw badInput(`--${name} must be a number (got "${text}").`);
  return value;
}

function required(values: Values, name: string): string {
  const value = values[name];
  if (typeof value !== 'string') throw badInput(`--${name} is required.`);
  return value;
}

function optional(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** The option read by `parse` (which rejects a bad value), or undefined when it was not given. */
function ifGiven<T>(values: Values, name: string, parse: (values: Values, name: string) => T): T | undefined {
  return values[name] === undefined ? undefined : parse(values, name);
}

/** `fields` without the undefined ones: an option that was not given is left out of a request, not set to undefined. */
function definedOnly<T extends Record<string, unknown>>(fields: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}

function usage(): string {
  const lines = [
    'Usage: lm-lens [--models-dir DIR]... [--only-models-dir DIR]... <command> [options]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${`${name} ${c.usage}`.trimEnd()}\n      ${c.summary}`),
    '',
    'Global options:',
    '  --models-dir DIR        a folder of model folders, searched before the default ones; repeatable',
    '                          (defaults, always searched: the shipped models, then the per-user folder)',
    '  --only-models-dir DIR   a folder of model folders, searching only such folders (no defaults); repeatable',
    '  -h, --help              this help',
    '',
    `Default folders: ${SHIPPED_MODELS} (shipped) and ${userModelsDir()} (add-model's).`,
    'A model id found in more than one folder is taken from the first.',
    '',
    'Output is JSON on stdout. Errors are {"error":{"code","message"}} on stderr;',
    'exit status 2 for bad input or a missing/broken model, 1 for internal errors.',
  ];
  return lines.join('\n') + '\n';
}

interface CommandLine {
  command: string | undefined;
  values: Values;
}

/**
 * Two passes: first with every command's options (so option values are never mistaken for the command
 * name), then strictly with the global options and the chosen command's own.
 */
function parseCommandLine(args: string[]): CommandLine {
  try {
    const everyOption = Object.assign({}, GLOBAL_OPTIONS, ...Object.values(COMMANDS).map((c) => c.options)) as Options;
    const first = parseArgs({ args, options: everyOption, allowPositionals: true, strict: true });
    const [command, ...extra] = first.positionals;
    if (command === undefined) return { command, values: first.values };
    const spec = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!spec) throw badInput(`Unknown command "${command}". Commands: ${Object.keys(COMMANDS).join(', ')}.`);
    const positionals = spec.positional ? 1 : 0;
    if (extra.length > positionals) {
      // `lm-lens fill "The [MASK] barked."` is the likeliest slip: say where the text goes
      const hint = Object.hasOwn(spec.options, 'text') ? `${command} takes its text as --text "…"` : `usage: ${command} ${spec.usage}`.trim();
      throw badInput(`Unexpected argument "${extra[positionals]}": ${hint}.`);
    }
    const { values } = parseArgs({ args, options: { ...GLOBAL_OPTIONS, ...spec.options }, allowPositionals: true, strict: true });
    if (spec.positional && extra[0] !== undefined) values[spec.positional] = extra[0];
    return { command, values };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) throw badInput((error as Error).message);
    throw error;
  }
}

function listOption(values: Values, name: string): string[] {
  const given = values[name];
  return Array.isArray(given) ? given.map(String) : [];
}

/**
 * The folders to search, in order: `--only-models-dir` folders, then `--models-dir` folders, then (unless
 * `--only-models-dir` was given) the shipped models and the per-user folder add-model installs into. A folder
 * given twice is searched once. Given folders come first so that a model there (e.g. a freshly trained
 * bert-mini) is the one used, not the shipped model of the same id; defaults still prefer shipped models.
 */
function modelDirectoriesFrom(values: Values): ModelDirectory[] {
  const only = listOption(values, 'only-models-dir');
  const given = [...only, ...listOption(values, 'models-dir')].map((dir) => path.resolve(dir));
  const folders = only.length > 0 ? given : [...given, SHIPPED_MODELS, userModelsDir()];
  return [...new Set(folders)].map((folder) => ({ path: folder, source: folder === SHIPPED_MODELS ? 'shipped' : 'user' }));
}

/**
 * Where the CLI keeps sense vectors it builds: `senses` in its own folder (`$LM_LENS_HOME`, ...), as the extension
 * keeps the hover's builds in `senses` in its global storage.
 */
function senseCacheDir(): string {
  return path.join(userDataDir(), 'senses');
}

/** add-model / remove-model: --dir, else the first --only-models-dir / --models-dir, else the per-user models folder. */
function modelsDirFor(values: Values): string {
  const dir = optional(values, 'dir');
  const [first] = [...listOption(values, 'only-models-dir'), ...listOption(values, 'models-dir')];
  return path.resolve(dir ?? first ?? userModelsDir());
}

/** Download progress on stderr: a line per file, and at most one a second in between. */
function progressLines(): (progress: DownloadProgress) => void {
  let lastFile = '';
  let lastAt = 0;
  return (progress) => {
    const now = Date.now();
    if (progress.phase === 'downloading' && progress.file === lastFile && now - lastAt < 1000) return;
    lastFile = progress.file;
    lastAt = now;
    process.stderr.write(`${describeProgress(progress)}\n`);
  };
}

/** Sense-vector build progress on stderr: each phase as it starts, then at most one line every 2 s. */
function senseProgressLines(): (progress: SenseIndexProgress) => void {
  let lastPhase = '';
  let lastAt = 0;
  return ({ phase, done, total }) => {
    const now = Date.now();
    if (phase === lastPhase && now - lastAt < 2000 && done < total) return;
    lastPhase = phase;
    lastAt = now;
    process.stderr.write(`${phase} ${done}/${total}\n`);
  };
}

/** Evaluation progress on stderr (`pairs 1200/6700`), at most one line every 2 s; quick runs print none. */
function evalProgressLines(): (progress: EvalProgress) => void {
  return throttledProgress((p) => p.unit, (line) => process.stderr.write(line));
}

/** Set when the result could not be written to stdout (not for EPIPE): the exit status is then 1. */
let outputLost = false;

/**
 * Output that cannot be written must not end in a Node stack trace (an unhandled 'error' event on the stream).
 * - EPIPE: the reader has gone (`lm-lens attention ... | head -c 10`). That is the reader's choice, not a failure
 *   of the command, so stop writing and exit with the command's own status (0 after a success), quietly.
 *   (The conventional death by SIGPIPE, status 141, would fail `set -o pipefail` scripts for reading less.)
 * - Anything else on stdout (ENOSPC for `> /dev/full`, EIO): the result is lost. Say so in one JSON error line
 *   on stderr and exit 1.
 * - Anything else on stderr (progress, the error line): nothing is left to tell it to; the status stays the
 *   command's own.
 */
function guardOutput(stream: NodeJS.WriteStream, name: 'stdout' | 'stderr'): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || name === 'stderr') return;
    outputLost = true;
    process.exitCode = 1;
    const reason = error.code === 'ENOSPC' ? 'no space left on the device (ENOSPC)' : `${error.code ?? error.message}`;
    const message = `Could not write the output to ${name}: ${reason}.`;
    process.stderr.write(JSON.stringify({ error: { code: 'INTERNAL', message } }) + '\n');
  });
}

async function main(args: string[]): Promise<number> {
  let engine: Engine | undefined;
  const interrupt = new AbortController();
  try {
    const { command, values } = parseCommandLine(args);
    if (values['help']) {
      process.stdout.write(command ? `Usage: lm-lens ${command} ${COMMANDS[command]!.usage}\n` : usage());
      return 0;
    }
    if (!command) throw badInput(`No command given. Commands: ${Object.keys(COMMANDS).join(', ')} (see lm-lens --help).`);
    // Every command reads or writes there (models, the cache of rewritten graphs): a home under /proc would spin
    // in mkdir, a file or a read-only folder would fail late. Refuse it before anything starts.
    await checkUserDataDir();
    engine = new Engine({
      modelDirectories: modelDirectoriesFrom(values),
      workerPath: WORKER,
      cacheDir: path.join(userDataDir(), 'cache'), // graphs rewritten to expose attentions (downloaded models: in their folder)
      senses: { cacheDir: senseCacheDir() }, // `senses build` writes there, `sense` reads there
    });
    // `once`: a second Ctrl+C gets the default action and ends the process at once (see shutDown).
    const onInterrupt = (): void => interrupt.abort();
    process.once('SIGINT', onInterrupt);
    try {
      const result = await COMMANDS[command]!.run(values, { engine, signal: interrupt.signal });
      process.stdout.write(JSON.stringify(result) + '\n');
      return 0;
    } finally {
      process.off('SIGINT', onInterrupt);
    }
  } catch (caught) {
    const error = toLensError(caught);
    process.stderr.write(JSON.stringify({ error: { code: error.code, message: error.message } }) + '\n');
    return isInputError(error.code) ? 2 : 1;
  } finally {
    if (engine) await shutDown(engine, interrupt.signal.aborted);
  }
}

/**
 * Stops the engine after the answer (or the CANCELLED error) is printed. A model run cannot be stopped midway,
 * and ending the process while the worker is inside one aborts it ("terminate called after throwing an
 * instance of 'Napi::Error'", exit 134), so after Ctrl+C this waits for the current step; a second Ctrl+C
 * ends the process at once, by the signal.
 */
async function shutDown(engine: Engine, interrupted: boolean): Promise<void> {
  const note = interrupted
    ? setTimeout(() => process.stderr.write('lm-lens: stopping after the model\'s current step; Ctrl+C again quits at once.\n'), 500)
    : undefined;
  try {
    await engine.dispose();
  } finally {
    clearTimeout(note);
  }
}

guardOutput(process.stdout, 'stdout');
guardOutput(process.stderr, 'stderr');
void main(process.argv.slice(2)).then((code) => {
  process.exitCode = outputLost ? 1 : code;
});
