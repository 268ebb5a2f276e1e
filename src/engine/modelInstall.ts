/**
 * Installing and removing downloaded models: the layer between the Hub downloader (hub/) and the two
 * front-ends (`lm-lens add-model` / `remove-model`, and the Add Model / Remove Model commands).
 * Pure Node: no `vscode`, no ONNX Runtime.
 */
import { readdir, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import {
  DEFAULT_ENDPOINT,
  DownloadError,
  type DownloadOptions,
  type DownloadedFile,
  downloadModel,
  modelDirState,
  readModelManifest,
} from './hub';
import { lockModelDir } from './hub/manifest';
import { validateLocalId } from './hub/urls';
import { LensError } from './errors';
import { checkWritableFolder } from './folders';

/**
 * LM Lens's own folder for a user outside VS Code: `$LM_LENS_HOME`, else `$XDG_DATA_HOME/lm-lens`,
 * else `~/.lm-lens`. (The extension keeps its models in its global storage instead.)
 */
export function userDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['LM_LENS_HOME']) return path.resolve(env['LM_LENS_HOME']);
  if (env['XDG_DATA_HOME']) return path.join(path.resolve(env['XDG_DATA_HOME']), 'lm-lens');
  return path.join(homedir(), '.lm-lens');
}

/** How the user chose userDataDir, for messages: `LM_LENS_HOME=/x`, `XDG_DATA_HOME=/y (/y/lm-lens)` or the path. */
export function describeUserDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['LM_LENS_HOME']) return `LM_LENS_HOME=${env['LM_LENS_HOME']}`;
  if (env['XDG_DATA_HOME']) return `XDG_DATA_HOME=${env['XDG_DATA_HOME']} (${userDataDir(env)})`;
  return `LM Lens's folder ${userDataDir(env)}`;
}

/**
 * BAD_INPUT (saying how to choose another) unless userDataDir is, or can be created as, a writable folder: a
 * home under /proc or /sys, a file, or a read-only folder is refused before anything is created in it.
 */
export async function checkUserDataDir(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await checkWritableFolder(userDataDir(env), describeUserDataDir(env), 'Set LM_LENS_HOME to a folder you can write to.');
}

/** Where `lm-lens add-model` puts models by default, and where the CLI looks after the shipped ones. */
export function userModelsDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(userDataDir(env), 'models');
}

export type InstallOptions = DownloadOptions;

export interface InstallResult {
  /** The model id: `--model ID` in every command (with `--models-dir` the folder it was installed in). */
  id: string;
  path: string;
  files: DownloadedFile[];
  /** Nothing was downloaded: a complete copy was already there. */
  alreadyPresent: boolean;
}

/** Downloads a Hub repository into `<destRoot>/<id>` (resumes an interrupted download of the same model). */
export async function installModel(options: InstallOptions): Promise<InstallResult> {
  await checkWritableFolder(options.destRoot, `The models folder ${options.destRoot}`);
  const result = await downloadModel(options);
  return { id: result.id, path: result.path, files: result.files, alreadyPresent: result.alreadyPresent };
}

/** A model folder that LM Lens downloaded (complete or not) in a models folder. */
export interface InstalledModel {
  id: string;
  path: string;
  /** `partial`: an interrupted or damaged download (not usable; add it again to resume, or remove it). */
  state: 'complete' | 'partial';
  repo?: string;
  variant?: string;
  /** Bytes of the files the manifest lists (complete downloads only). */
  bytes?: number;
}

/**
 * The folders in `dir` that LM Lens downloaded, sorted by id. Hand-made and shipped model folders are
 * not listed: Remove Model never touches them.
 */
export async function installedModels(dir: string): Promise<InstalledModel[]> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw error;
  }
  const found: InstalledModel[] = [];
  for (const id of names.sort()) {
    const folder = path.join(dir, id);
    const state = modelDirState(folder);
    if (state !== 'complete' && state !== 'partial') continue;
    const manifest = readModelManifest(folder);
    found.push({
      id,
      path: folder,
      state,
      ...(manifest ? { repo: manifest.repo, variant: manifest.variant } : {}),
      ...(manifest && state === 'complete' ? { bytes: manifest.files.reduce((sum, f) => sum + f.size, 0) } : {}),
    });
  }
  return found;
}

/**
 * Deletes the downloaded model `id` from `dir` (with its cached rewritten graphs). BAD_INPUT for a folder
 * LM Lens did not download (never deleted), MODEL_NOT_FOUND when there is none, DOWNLOAD_FAILED
 * (`busy`) while a download into it is running.
 */
export async function removeInstalledModel(dir: string, id: string): Promise<{ id: string; path: string }> {
  const folder = path.join(path.resolve(dir), validateLocalId(id));
  const state = modelDirState(folder);
  if (state === 'missing') throw new LensError('MODEL_NOT_FOUND', `No model "${id}" in ${dir}.`);
  if (state === 'unmanaged') {
    throw new LensError('BAD_INPUT', `${folder} was not downloaded by LM Lens; delete it yourself if you really want it gone.`);
  }
  const release = lockModelDir(folder); // throws `busy` while a download runs
  // out of the model list in one step, then deleted: a file held open (Windows) leaves the model whole
  const trash = path.join(path.dirname(folder), `.${id}.removing-${process.pid}-${Date.now()}`);
  try {
    await rename(folder, trash);
  } catch (error) {
    release();
    throw error;
  }
  await rm(trash, { recursive: true, force: true }); // the lock file goes with it
  return { id, path: folder };
}

/** A download failure as one sentence for a person, with what to do next. */
export function describeInstallFailure(error: unknown, endpoint: string = DEFAULT_ENDPOINT): string {
  if (!(error instanceof DownloadError)) return error instanceof Error ? error.message : String(error);
  switch (error.reason) {
    case 'offline':
      return (
        `${error.message} LM Lens needs ${endpoint} (or a mirror of it) to download a model; offline, ` +
        'copy a model folder from another machine and add its parent folder to lmLens.models.folders ' +
        '(in the CLI: --models-dir).'
      );
    case 'cancelled':
      return 'The download was cancelled. Add the same model again to resume where it stopped.';
    default:
      return error.message;
  }
}
