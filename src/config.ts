import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';

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
}

export const DEFAULT_HOVER_LANGUAGES: readonly string[] = [
  'plaintext',
  'markdown',
  'latex',
  'restructuredtext',
  'git-commit',
];
export const DEFAULT_ELMO_MODEL = 'elmo-mini';

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
  };
}

export function affectsEngine(event: vscode.ConfigurationChangeEvent): boolean {
  return ENGINE_RESTART_SETTINGS.some((key) => event.affectsConfiguration(key));
}

// settings.json is hand-edited: accept only what has the right shape, fall back otherwise
function stringList(value: unknown, fallback: readonly string[]): readonly string[] {
  if (!Array.isArray(value)) return fallback;
  return value.map(nonEmptyString).filter((s): s is string => s !== undefined);
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
