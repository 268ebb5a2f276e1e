/**
 * Hugging Face Hub downloads, pure Node (no `vscode`): for the CLI and the extension alike.
 */
export { downloadModel, defaultModelId, DEFAULT_ENDPOINT, DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_MS } from './download';
export type { DownloadOptions, DownloadResult, DownloadedFile } from './download';
export { describeProgress } from './progress';
export type { DownloadProgress, ProgressCallback } from './progress';
export { DownloadError } from './errors';
export type { DownloadFailure } from './errors';
export type { Variant } from './layout';
export { isCompleteModelDir, modelDirState, readModelManifest, MANIFEST_FILE } from './manifest';
export type { ModelDirState, ModelManifest, ManifestFile } from './manifest';
export { validateRepoId, validateRepoPath, validateRevision, isLoopbackHost } from './urls';
