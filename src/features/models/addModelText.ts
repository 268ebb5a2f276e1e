/**
 * The pure parts of Add Model / Remove Model: what the user typed -> a repository id, download progress ->
 * notification updates, sizes for people. No `vscode` here (unit-tested with node --test).
 */
import type { DownloadProgress } from '../../engine/hub/progress';
import { describeProgress, formatBytes } from '../../engine/hub/progress';
import { validateRepoId } from '../../engine/hub/urls';

/** Repositories offered first by Add Model: the transformers.js exports of the classic checkpoints. */
export const SUGGESTED_REPOS: readonly { repo: string; description: string }[] = [
  { repo: 'Xenova/bert-base-uncased', description: 'BERT base, masked LM · 110M parameters' },
  { repo: 'Xenova/distilbert-base-uncased', description: 'DistilBERT, masked LM · 66M parameters' },
  { repo: 'Xenova/gpt2', description: 'GPT-2 small, causal LM · 124M parameters' },
  { repo: 'Xenova/distilgpt2', description: 'DistilGPT-2, causal LM · 82M parameters' },
];

/** Hosts whose model page URLs may be pasted instead of a repository id. */
const HUB_HOSTS = new Set(['huggingface.co', 'www.huggingface.co', 'hf.co']);

/**
 * `Xenova/gpt2`, or a pasted model page (`https://huggingface.co/Xenova/gpt2/tree/main`) -> `Xenova/gpt2`;
 * an error sentence for anything else.
 */
export function parseRepoInput(value: string): { repo: string } | { error: string } {
  let text = value.trim();
  if (text === '') return { error: 'Type a repository id such as Xenova/bert-base-uncased.' };
  const withScheme = /^[a-z]+:\/\//i.test(text) ? text : HUB_HOSTS.has(text.split('/')[0]!.toLowerCase()) ? `https://${text}` : undefined;
  if (withScheme) {
    let url: URL;
    try {
      url = new URL(withScheme);
    } catch {
      return { error: `"${text}" is not a repository id or a Hub URL.` };
    }
    if (!HUB_HOSTS.has(url.hostname.toLowerCase())) {
      return { error: 'Paste a huggingface.co model page, or type owner/name (use the lmLens.hub.endpoint setting for a mirror).' };
    }
    text = url.pathname.split('/').filter(Boolean).slice(0, 2).join('/');
  }
  try {
    return { repo: validateRepoId(text) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** `438.0 MB`: the downloader's own size format. */
export const formatSize = formatBytes;

/** A notification update: the text and how many percent to add to the bar (VS Code's `increment`). */
export interface ProgressStep {
  message: string;
  increment?: number;
}

/**
 * Turns download progress into notification updates: the line of describeProgress (file, bytes, rate, ETA)
 * and the bar advanced by the new percentage since the last update (only once the total size is known).
 */
export function progressSteps(): (progress: DownloadProgress) => ProgressStep {
  let shown = 0;
  return (progress) => {
    const message = describeProgress(progress);
    const total = progress.bytesTotal;
    if (total === undefined || total <= 0) return { message };
    const percent = Math.min(100, (100 * progress.bytesDone) / total);
    const increment = percent - shown;
    shown = Math.max(shown, percent);
    return increment > 0 ? { message, increment } : { message };
  };
}
