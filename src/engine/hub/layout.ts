/**
 * Which files of a Hub repository make a model folder (the transformers.js layout, see api.ts),
 * and how to get the repository's file list when the endpoint has the Hub API.
 */
import { DownloadError } from './errors';
import { type GetOptions, httpError, httpGetJson } from './http';
import { checkUrlAllowed, revisionInfoUrl, treeUrl, validateRepoPath } from './urls';

export type Variant = 'fp32' | 'quantized';

/** One file of the repository as the Hub API lists it. */
export interface RepoFile {
  path: string;
  size?: number;
  /** sha256 of an LFS file (lfs.oid). */
  sha256?: string;
  /** git blob id of a regular file. */
  gitOid?: string;
}

export interface RepoListing {
  files: Map<string, RepoFile>;
  /** The commit the revision resolved to, when the API said. */
  commit?: string;
  source: 'tree' | 'siblings';
}

/** A place in the local folder and the repository files that can fill it, best first. */
export interface FileSlot {
  local: string;
  candidates: string[];
  required: boolean;
}

/** The local name of the model graph, whatever the repository calls it (see api.ts). */
export const LOCAL_ONNX = 'onnx/model.onnx';

/** ONNX files to look for, best first: plain exports, then GPT-2 family merged decoders. */
export const ONNX_CANDIDATES: Readonly<Record<Variant, readonly string[]>> = {
  fp32: ['onnx/model.onnx', 'onnx/decoder_model_merged.onnx', 'onnx/decoder_model.onnx'],
  quantized: ['onnx/model_quantized.onnx', 'onnx/decoder_model_merged_quantized.onnx', 'onnx/decoder_model_quantized.onnx'],
};

/** Files a tokenizer can be built from; a model needs at least one. */
export const TOKENIZER_FILES: readonly string[] = ['tokenizer.json', 'vocab.txt', 'vocab.json'];

const OPTIONAL_FILES: readonly string[] = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'vocab.txt',
  'vocab.json',
  'merges.txt',
  'generation_config.json',
];

/** The slots of a model folder, in download order (small files first, the graph last). */
export function modelSlots(variant: Variant): FileSlot[] {
  return [
    { local: 'config.json', candidates: ['config.json'], required: true },
    ...OPTIONAL_FILES.map((file) => ({ local: file, candidates: [file], required: false })),
    { local: 'MODEL_CARD.md', candidates: ['README.md'], required: false },
    { local: LOCAL_ONNX, candidates: [...ONNX_CANDIDATES[variant]], required: true },
  ];
}

/** Names under which exporters put a graph's external weights. */
export function externalDataCandidates(onnxPath: string): string[] {
  return [`${onnxPath}_data`, `${onnxPath}.data`];
}

/**
 * Narrows the slots to the files the listing has (each slot keeps its first listed candidate), adds the
 * graph's external data file when listed, and checks that everything required is there.
 */
export function planFromListing(slots: FileSlot[], listing: RepoListing, repo: string): FileSlot[] {
  const planned: FileSlot[] = [];
  for (const slot of slots) {
    const found = slot.candidates.find((c) => listing.files.has(c));
    if (!found) {
      if (slot.required) {
        const onnxFiles = [...listing.files.keys()].filter((f) => f.endsWith('.onnx'));
        const have = onnxFiles.length > 0 ? ` It has: ${onnxFiles.slice(0, 12).join(', ')}.` : '';
        throw new DownloadError(
          'MODEL_NOT_FOUND',
          'not-found',
          `${repo} has none of ${slot.candidates.join(', ')}, which LM Lens needs.${slot.local === LOCAL_ONNX ? have : ''}`,
        );
      }
      continue;
    }
    planned.push({ ...slot, candidates: [found] });
    if (slot.local === LOCAL_ONNX) {
      for (const data of externalDataCandidates(found)) {
        if (listing.files.has(data)) {
          planned.push({ local: data, candidates: [data], required: true });
        }
      }
    }
  }
  if (!TOKENIZER_FILES.some((f) => listing.files.has(f))) {
    throw new DownloadError('MODEL_NOT_FOUND', 'not-found', `${repo} has no tokenizer (${TOKENIZER_FILES.join(', ')}).`);
  }
  return planned;
}

const SHA256 = /^[0-9a-f]{64}$/;
const GIT_OID = /^[0-9a-f]{40}$/;

interface ApiEntry {
  type?: unknown;
  path?: unknown;
  rfilename?: unknown;
  size?: unknown;
  oid?: unknown;
  blobId?: unknown;
  lfs?: { oid?: unknown; sha256?: unknown; size?: unknown } | null;
}

function toRepoFile(entry: ApiEntry): RepoFile | undefined {
  const file = typeof entry.path === 'string' ? entry.path : typeof entry.rfilename === 'string' ? entry.rfilename : undefined;
  if (!file || (entry.type !== undefined && entry.type !== 'file')) {
    return undefined;
  }
  try {
    validateRepoPath(file);
  } catch {
    return undefined; // a name we would never download; ignore rather than fail the listing
  }
  const lfs = entry.lfs ?? undefined;
  const lfsSha = typeof lfs?.oid === 'string' ? lfs.oid : typeof lfs?.sha256 === 'string' ? lfs.sha256 : undefined;
  const lfsSize = typeof lfs?.size === 'number' ? lfs.size : undefined;
  const size = lfsSize ?? (typeof entry.size === 'number' ? entry.size : undefined);
  const oid = typeof entry.oid === 'string' ? entry.oid : typeof entry.blobId === 'string' ? entry.blobId : undefined;
  return {
    path: file,
    size: size !== undefined && Number.isSafeInteger(size) && size >= 0 ? size : undefined,
    sha256: lfsSha && SHA256.test(lfsSha) ? lfsSha : undefined,
    gitOid: !lfs && oid && GIT_OID.test(oid) ? oid : undefined,
  };
}

const MAX_TREE_PAGES = 50;

function nextPage(linkHeader: string | string[] | undefined, endpoint: URL): URL | undefined {
  const link = Array.isArray(linkHeader) ? linkHeader.join(',') : linkHeader;
  const match = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
  if (!match) {
    return undefined;
  }
  try {
    const url = new URL(match[1], endpoint);
    checkUrlAllowed(url);
    return url.origin === endpoint.origin ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Lists the repository through the Hub API: the tree endpoint (paginated), else the revision info
 * with its siblings. `undefined` when the endpoint has no such API (a plain static mirror): the
 * caller then tries the known file names. Network failures throw (nothing else would work either);
 * a 401/403 with the Hub's RepoNotFound / GatedRepo codes throws too.
 */
export async function listRepoFiles(
  endpoint: URL,
  repo: string,
  revision: string,
  options: GetOptions,
): Promise<RepoListing | undefined> {
  const files = new Map<string, RepoFile>();
  let url: URL | undefined = treeUrl(endpoint, repo, revision);
  for (let page = 0; url && page < MAX_TREE_PAGES; page++) {
    const { status, headers, json } = await httpGetJson(url, options);
    const hubCode = headers['x-error-code'];
    if (hubCode === 'RepoNotFound' || hubCode === 'RevisionNotFound' || hubCode === 'GatedRepo') {
      throw httpError(status, headers, url, `${repo}@${revision}`);
    }
    if (!Array.isArray(json)) {
      break; // no tree API here (or a broken later page: use what we have)
    }
    for (const entry of json as ApiEntry[]) {
      const file = toRepoFile(entry);
      if (file) {
        files.set(file.path, file);
      }
    }
    url = nextPage(headers.link, endpoint);
  }
  if (files.size > 0) {
    return { files, source: 'tree' };
  }

  const info = await httpGetJson(revisionInfoUrl(endpoint, repo, revision), options);
  const body = info.json as { sha?: unknown; siblings?: unknown } | undefined;
  if (!body || !Array.isArray(body.siblings)) {
    return undefined;
  }
  for (const entry of body.siblings as ApiEntry[]) {
    const file = toRepoFile(entry);
    if (file) {
      files.set(file.path, file);
    }
  }
  const commit = typeof body.sha === 'string' && GIT_OID.test(body.sha) ? body.sha : undefined;
  return files.size > 0 ? { files, commit, source: 'siblings' } : undefined;
}
