import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { GHOST_TEXT_DEFAULTS } from './engine/tasks/generate/confidence';

/** The one typed view of the `lmLens.*` settings. Read it fresh where it is used; nothing caches it. */
export interface LmLensConfig {
  readonly hover: {
    readonly enabled: boolean;
    /** Languages whose whole text is prose; elsewhere the hover works inside comments and strings only. */
    readonly languages: readonly string[];
  };
  readonly models: {
    /** Extra model folders (absolute; `~` and workspace-relative paths are resolved). */
    readonly folders: readonly string[];
    /** The default contextual-embedding (ELMo) model id used by the hover and `lmLens.embedWord`. */
    readonly elmo: string;
  };
  readonly hub: {
    /** The Hugging Face Hub, or a mirror of it, that Add Model downloads from. */
    readonly endpoint: string;
  };
  readonly completion: {
    /** Ghost text per language id ("*" for the rest): `lmLens.completion.enable`. */
    readonly enable: Readonly<Record<string, boolean>>;
    /** Causal LM id; undefined: the first shipped one. */
    readonly model: string | undefined;
    /** Ghost text: tokens to generate, and the pause after typing before asking. */
    readonly maxTokens: number;
    /** Ghost text stops before the first token the model gave less than this probability (0: never). */
    readonly minTokenProbability: number;
    readonly debounceMs: number;
    /** `LM Lens: Continue Text`: tokens, temperature (0 = greedy), top-k (0 = no limit), top-p and min-p (0 = none). */
    readonly continueTokens: number;
    readonly temperature: number;
    readonly topK: number;
    readonly topP: number;
    readonly minP: number;
    /** Ghost text and Continue Text: CTRL's penalty on tokens already in the text (1 = none). */
    readonly repetitionPenalty: number;
  };
  readonly fillMask: {
    /** Masked LM id; undefined: the first shipped one. */
    readonly model: string | undefined;
    readonly topK: number;
  };
  readonly attention: {
    /** Model id of the attention view; undefined: the last one picked in the view, else the first shipped BERT. */
    readonly model: string | undefined;
    /** Most tokens the view runs and draws; longer texts are windowed around the cursor. */
    readonly maxTokens: number;
    /** Whether the view follows the cursor (else it updates on `LM Lens: Show Attention`). */
    readonly followCursor: boolean;
  };
}

export const DEFAULT_HOVER_LANGUAGES: readonly string[] = [
  'plaintext',
  'markdown',
  'latex',
  'restructuredtext',
  'git-commit',
];
export const DEFAULT_ELMO_MODEL = 'elmo-mini';
export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';
export const DEFAULT_COMPLETION_ENABLE: Readonly<Record<string, boolean>> = { '*': false, plaintext: true, markdown: true };

/** Settings that change the engine's model directories: a change recreates the engine. */
export const ENGINE_RESTART_SETTINGS: readonly string[] = ['lmLens.models.folders'];

export function readConfig(): LmLensConfig {
  const c = vscode.workspace.getConfiguration('lmLens');
  return {
    hover: {
      enabled: c.get<unknown>('hover.enabled') !== false,
      languages: stringList(c.get<unknown>('hover.languages'), DEFAULT_HOVER_LANGUAGES),
    },
    models: {
      folders: stringList(c.get<unknown>('models.folders'), []).map(resolveFolder),
      elmo: nonEmptyString(c.get<unknown>('models.elmo')) ?? DEFAULT_ELMO_MODEL,
    },
    hub: {
      endpoint: nonEmptyString(c.get<unknown>('hub.endpoint')) ?? DEFAULT_HUB_ENDPOINT,
    },
    completion: {
      enable: booleanMap(c.get<unknown>('completion.enable'), DEFAULT_COMPLETION_ENABLE),
      model: nonEmptyString(c.get<unknown>('completion.model')),
      maxTokens: settingNumber(c.get<unknown>('completion.maxTokens'), 1, 64, true) ?? GHOST_TEXT_DEFAULTS.maxTokens,
      minTokenProbability:
        settingNumber(c.get<unknown>('completion.minTokenProbability'), 0, 1, false) ?? GHOST_TEXT_DEFAULTS.minTokenProbability,
      debounceMs: settingNumber(c.get<unknown>('completion.debounceMs'), 0, 5000, true) ?? 300,
      continueTokens: settingNumber(c.get<unknown>('completion.continueTokens'), 1, 1024, true) ?? 64,
      temperature: settingNumber(c.get<unknown>('completion.temperature'), 0, 5, false) ?? 0.8,
      topK: settingNumber(c.get<unknown>('completion.topK'), 0, 1000, true) ?? 0,
      topP: settingNumber(c.get<unknown>('completion.topP'), 0.01, 1, false) ?? 0.95,
      minP: settingNumber(c.get<unknown>('completion.minP'), 0, 0.99, false) ?? 0,
      repetitionPenalty: settingNumber(c.get<unknown>('completion.repetitionPenalty'), 1, 2, false) ?? GHOST_TEXT_DEFAULTS.repetitionPenalty,
    },
    fillMask: {
      model: nonEmptyString(c.get<unknown>('fillMask.model')),
      topK: settingNumber(c.get<unknown>('fillMask.topK'), 1, 50, true) ?? 10,
    },
    attention: {
      model: nonEmptyString(c.get<unknown>('attention.model')),
      maxTokens: settingNumber(c.get<unknown>('attention.maxTokens'), 8, 512, true) ?? DEFAULT_ATTENTION_MAX_TOKENS,
      followCursor: c.get<unknown>('attention.followCursor') !== false,
    },
  };
}

export const DEFAULT_ATTENTION_MAX_TOKENS = 128;

export function affectsEngine(event: vscode.ConfigurationChangeEvent): boolean {
  return ENGINE_RESTART_SETTINGS.some((key) => event.affectsConfiguration(key));
}

// settings.json is hand-edited: accept only what has the right shape, fall back otherwise
function stringList(value: unknown, fallback: readonly string[]): readonly string[] {
  if (!Array.isArray(value)) return fallback;
  return value.map(nonEmptyString).filter((s): s is string => s !== undefined);
}

function settingNumber(value: unknown, min: number, max: number, integer: boolean): number | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) return undefined;
  return value >= min && value <= max ? value : undefined;
}

/** A { key: boolean } object; keys with other values are ignored; not an object: the fallback. */
function booleanMap(value: unknown, fallback: Readonly<Record<string, boolean>>): Readonly<Record<string, boolean>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fallback;
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, boolean] => typeof entry[1] === 'boolean'));
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function resolveFolder(folder: string): string {
  if (folder === '~' || folder.startsWith('~/')) return path.join(os.homedir(), folder.slice(1));
  if (path.isAbsolute(folder)) return folder;
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return root ? path.resolve(root, folder) : path.resolve(folder);
}
