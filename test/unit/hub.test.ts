/**
 * Hub downloads against a loopback Hub look-alike (test/fixtures/hub/fakeHub.ts): listing,
 * redirects, integrity, resume, cancellation, mirrors, and the safety checks.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  DownloadError,
  describeProgress,
  type DownloadOptions,
  type DownloadProgress,
  downloadModel,
  isCompleteModelDir,
  isLoopbackHost,
  MANIFEST_FILE,
  modelDirState,
  readModelManifest,
  validateRepoId,
  validateRepoPath,
} from '../../src/engine/hub';
import { FakeHub, bertLikeFiles, fakeBytes, fakeOnnx, type FakeFile } from '../fixtures/hub/fakeHub';

const REPO = 'Xenova/tiny-bert';
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

let root: string;
let hub: FakeHub | undefined;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'lm-lens-hub-'));
});

afterEach(async () => {
  await hub?.close();
  hub = undefined;
  await rm(root, { recursive: true, force: true });
});

async function start(files: FakeFile[] = bertLikeFiles(), extra: Partial<ConstructorParameters<typeof FakeHub>[0]> = {}): Promise<FakeHub> {
  hub = await FakeHub.start({ repo: REPO, files, ...extra });
  return hub;
}

function options(over: Partial<DownloadOptions> = {}): DownloadOptions {
  return { repo: REPO, endpoint: hub?.url, destRoot: root, retryDelayMs: 5, timeoutMs: 5000, ...over };
}

/** Runs `fn` and returns the DownloadError it rejects with. */
async function failure(fn: () => Promise<unknown>): Promise<DownloadError> {
  try {
    await fn();
  } catch (error) {
    assert.ok(error instanceof DownloadError, `expected a DownloadError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the download to fail');
}

function content(files: FakeFile[], file: string): Buffer {
  return (files.find((f) => f.path === file) as FakeFile).content;
}

describe('downloadModel from a Hub with the API', () => {
  it('downloads the model files through redirects, checks them and writes the manifest last', async () => {
    const files = bertLikeFiles();
    const server = await start(files);
    const progress: DownloadProgress[] = [];
    const result = await downloadModel(options({ onProgress: (p) => progress.push(p) }));

    assert.equal(result.id, 'Xenova--tiny-bert');
    assert.equal(result.path, path.join(root, 'Xenova--tiny-bert'));
    assert.equal(result.alreadyPresent, false);
    assert.equal(result.commit, server.commit);
    const local = (await readdir(result.path, { recursive: true })).sort();
    assert.deepEqual(local, [
      MANIFEST_FILE,
      'MODEL_CARD.md',
      'config.json',
      'onnx',
      path.join('onnx', 'model.onnx'),
      'special_tokens_map.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'vocab.txt',
    ]);
    for (const file of ['config.json', 'tokenizer.json', 'vocab.txt', 'onnx/model.onnx']) {
      assert.ok((await readFile(path.join(result.path, file))).equals(content(files, file)), file);
    }
    assert.ok((await readFile(path.join(result.path, 'MODEL_CARD.md'))).equals(content(files, 'README.md')));

    const manifest = readModelManifest(result.path);
    assert.ok(manifest);
    assert.equal(manifest.repo, REPO);
    assert.equal(manifest.variant, 'fp32');
    assert.equal(manifest.commit, server.commit);
    const onnx = manifest.files.find((f) => f.path === 'onnx/model.onnx');
    assert.deepEqual(onnx, {
      path: 'onnx/model.onnx',
      source: 'onnx/model.onnx',
      size: content(files, 'onnx/model.onnx').length,
      sha256: sha256(content(files, 'onnx/model.onnx')),
    });
    assert.deepEqual(result.files, manifest.files);
    assert.equal(modelDirState(result.path), 'complete');
    assert.equal(isCompleteModelDir(result.path), true);

    // The LFS graph came through a redirect to the CDN; after the first answer, URLs use the commit.
    const graphRequests = server.fileRequests('onnx/model.onnx');
    assert.ok(graphRequests.some((r) => r.path.startsWith('/cdn/')));
    assert.ok(graphRequests.some((r) => r.path.includes(`/resolve/${server.commit}/`)));
    assert.ok(!server.requests.some((r) => r.path.endsWith('model_quantized.onnx')), 'the other variant is not fetched');

    // Progress: listing first, bytes never go back, ends done with everything counted.
    assert.equal(progress[0].phase, 'listing');
    const last = progress.at(-1) as DownloadProgress;
    assert.equal(last.phase, 'done');
    assert.equal(last.bytesDone, last.bytesTotal);
    assert.equal(last.bytesTotal, manifest.files.reduce((a, f) => a + f.size, 0));
    for (let i = 1; i < progress.length; i++) {
      assert.ok(progress[i].bytesDone >= progress[i - 1].bytesDone, 'bytesDone is monotonic');
    }
    assert.ok(progress.some((p) => p.file === 'onnx/model.onnx' && p.fileTotal === content(files, 'onnx/model.onnx').length));
  });

  it('follows both a relative and an absolute redirect (to another origin)', async () => {
    const files = [...bertLikeFiles(), { path: 'onnx/model.onnx_data', content: fakeBytes(5000, 9), lfs: true }];
    const server = await start(files);
    const result = await downloadModel(options());
    const cdnPaths = server.requests.filter((r) => r.path.startsWith('/cdn/'));
    assert.ok(cdnPaths.some((r) => r.server === 'hub'), 'relative /cdn/ redirect on the same origin');
    assert.ok(cdnPaths.some((r) => r.server === 'cdn'), 'absolute redirect to the CDN origin');
    // External weights come along under their own name (the graph refers to them by it).
    assert.ok((await readFile(path.join(result.path, 'onnx/model.onnx_data'))).equals(content(files, 'onnx/model.onnx_data')));
  });

  it('picks the quantized graph and stores it as onnx/model.onnx', async () => {
    const files = bertLikeFiles();
    await start(files);
    const result = await downloadModel(options({ variant: 'quantized' }));
    assert.equal(result.id, 'Xenova--tiny-bert-quantized');
    assert.ok((await readFile(path.join(result.path, 'onnx/model.onnx'))).equals(content(files, 'onnx/model_quantized.onnx')));
    assert.equal(readModelManifest(result.path)?.files.find((f) => f.path === 'onnx/model.onnx')?.source, 'onnx/model_quantized.onnx');
  });

  it('falls back to the merged decoder for GPT-2 style repositories', async () => {
    const files: FakeFile[] = [
      { path: 'config.json', content: Buffer.from('{"model_type":"gpt2"}') },
      { path: 'vocab.json', content: Buffer.from('{"a":0}') },
      { path: 'merges.txt', content: Buffer.from('#version: 0.2\n') },
      { path: 'onnx/decoder_model.onnx', content: fakeOnnx(3000, 3), lfs: true },
      { path: 'onnx/decoder_model_merged.onnx', content: fakeOnnx(4000, 4), lfs: true },
    ];
    await start(files);
    const result = await downloadModel(options());
    assert.ok((await readFile(path.join(result.path, 'onnx/model.onnx'))).equals(content(files, 'onnx/decoder_model_merged.onnx')));
    assert.ok(existsSync(path.join(result.path, 'merges.txt')));
  });

  it('reads a paginated tree listing (Link: rel="next")', async () => {
    const server = await start(bertLikeFiles(), { pageSize: 3 });
    await downloadModel(options());
    const pages = server.requests.filter((r) => r.path.includes('/api/models/'));
    assert.ok(pages.length >= 3, `asked ${pages.length} pages`);
    assert.ok(existsSync(path.join(root, 'Xenova--tiny-bert', 'onnx/model.onnx')));
  });

  it('says which ONNX files a repository has when none fits', async () => {
    await start([
      { path: 'config.json', content: Buffer.from('{}') },
      { path: 'tokenizer.json', content: Buffer.from('{}') },
      { path: 'onnx/model_fp16.onnx', content: fakeOnnx(100, 5), lfs: true },
    ]);
    const error = await failure(() => downloadModel(options()));
    assert.equal(error.code, 'MODEL_NOT_FOUND');
    assert.match(error.message, /onnx\/model\.onnx.*It has: onnx\/model_fp16\.onnx/);
  });

  it('returns a complete copy without downloading again, and refuses another repo in the same folder', async () => {
    const server = await start();
    await downloadModel(options());
    const before = server.requests.length;
    const again = await downloadModel(options());
    assert.equal(again.alreadyPresent, true);
    assert.equal(server.requests.length, before, 'no requests');
    const error = await failure(() => downloadModel(options({ repo: 'Xenova/other', id: 'Xenova--tiny-bert' })));
    assert.equal(error.code, 'BAD_INPUT');
  });

  it('refuses a second download into a folder that is being downloaded; force starts over', async () => {
    const server = await start();
    server.faults.set('onnx/model.onnx', { trickle: { delayMs: 1 } });
    const first = downloadModel(options());
    const lock = path.join(root, 'Xenova--tiny-bert', '.lm-lens-download.lock');
    for (let i = 0; i < 500 && !existsSync(lock); i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const error = await failure(() => downloadModel(options()));
    assert.equal(error.reason, 'busy');
    await first;
    server.faults.delete('onnx/model.onnx');

    const before = server.fileRequests('onnx/model.onnx').length;
    const again = await downloadModel(options({ force: true }));
    assert.equal(again.alreadyPresent, false);
    assert.ok(server.fileRequests('onnx/model.onnx').length > before, 'downloaded again');
    assert.equal(isCompleteModelDir(again.path), true);
    assert.ok(!existsSync(lock));
  });

  it('sends the token to the Hub but never to the CDN, and explains gated repositories', async () => {
    const server = await start();
    await downloadModel(options({ token: 'hf_secret' }));
    assert.ok(server.requests.filter((r) => r.server === 'hub').every((r) => r.authorization === 'Bearer hf_secret'));
    assert.ok(server.requests.filter((r) => r.server === 'cdn').every((r) => r.authorization === undefined));
    await server.close();

    await start(bertLikeFiles(), { gated: true });
    const error = await failure(() => downloadModel(options({ id: 'gated' })));
    assert.equal(error.code, 'DOWNLOAD_FAILED');
    assert.equal(error.reason, 'gated');
    assert.match(error.message, /gated or private/);
    assert.equal(isCompleteModelDir(path.join(root, 'gated')), false);
  });

  it('refuses a model over the size cap before downloading it', async () => {
    const server = await start();
    const error = await failure(() => downloadModel(options({ maxBytes: 100_000 })));
    assert.equal(error.reason, 'too-large');
    assert.match(error.message, /size limit/);
    assert.ok(!server.requests.some((r) => r.path.includes('/resolve/')), 'nothing downloaded');
  });
});

describe('downloadModel from a static mirror (no API)', () => {
  it('tries the known file names, skipping optional ones that 404', async () => {
    const files = bertLikeFiles().filter((f) => !['special_tokens_map.json', 'README.md'].includes(f.path));
    const server = await start(files, { mode: 'static' });
    const result = await downloadModel(options());
    assert.equal(result.commit, undefined);
    const got = result.files.map((f) => f.path).sort();
    assert.deepEqual(got, ['config.json', 'onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt']);
    assert.ok(server.requests.some((r) => r.path.endsWith('/special_tokens_map.json')), 'optional file was tried');
    assert.ok((await readFile(path.join(result.path, 'onnx/model.onnx'))).equals(content(files, 'onnx/model.onnx')));
  });

  it('fails with MODEL_NOT_FOUND when a required file is missing, leaving a partial folder', async () => {
    await start(bertLikeFiles().filter((f) => !f.path.startsWith('onnx/')), { mode: 'static' });
    const error = await failure(() => downloadModel(options()));
    assert.equal(error.code, 'MODEL_NOT_FOUND');
    assert.match(error.message, /onnx\/model\.onnx, onnx\/decoder_model_merged\.onnx/);
    const dir = path.join(root, 'Xenova--tiny-bert');
    assert.ok(existsSync(path.join(dir, 'config.json')), 'the files before are kept');
    assert.equal(modelDirState(dir), 'partial');
    assert.equal(isCompleteModelDir(dir), false);
  });

  it('stops at the size cap as soon as the sizes tell', async () => {
    await start(bertLikeFiles(), { mode: 'static' });
    const error = await failure(() => downloadModel(options({ maxBytes: 50_000 })));
    assert.equal(error.reason, 'too-large');
    assert.ok(!existsSync(path.join(root, 'Xenova--tiny-bert', 'onnx/model.onnx.part')));
  });

  it('reuses files finished by an interrupted run after checking them', async () => {
    const files = bertLikeFiles();
    const server = await start(files, { mode: 'static' });
    server.faults.set('onnx/model.onnx', { drop: { afterBytes: 1000, times: 1 } });
    await failure(() => downloadModel(options({ retries: 0 })));
    const tokenizerRequests = server.fileRequests('tokenizer.json').length;
    await downloadModel(options());
    assert.equal(server.fileRequests('tokenizer.json').length, tokenizerRequests + 1, 'asked once more (a mirror has no listing)');
    assert.equal(isCompleteModelDir(path.join(root, 'Xenova--tiny-bert')), true);
  });
});

describe('a .part that is not a regular file (issue 12)', { skip: process.platform === 'win32' ? 'no mkfifo' : false }, () => {
  const part = (): string => path.join(root, 'Xenova--tiny-bert', 'onnx', 'model.onnx.part');

  for (const [kind, make] of [
    ['a FIFO', (file: string) => assert.equal(spawnSync('mkfifo', [file]).status, 0, 'mkfifo')],
    ['a folder', (file: string) => mkdirSync(file)],
    ['a symbolic link', (file: string) => symlinkSync(path.join(root, 'elsewhere'), file)],
  ] as const) {
    it(`${kind} as onnx/model.onnx.part: DOWNLOAD_FAILED at once, nothing written through it; force starts over`, { timeout: 30_000 }, async () => {
      const server = await start();
      server.faults.set('onnx/model.onnx', { drop: { afterBytes: 1000, times: 1 } });
      await failure(() => downloadModel(options({ retries: 0 }))); // an unfinished download of ours
      await rm(part(), { force: true });
      make(part());
      const error = await failure(() => downloadModel(options({ retries: 2 })));
      assert.equal(error.code, 'DOWNLOAD_FAILED', error.message);
      assert.match(error.message, new RegExp(`model\\.onnx\\.part is ${kind}`));
      assert.equal(existsSync(path.join(root, 'elsewhere')), false, 'nothing written through a link');
      const again = await downloadModel(options({ force: true }));
      assert.equal(isCompleteModelDir(again.path), true);
    });
  }
});

describe('what arrives is checked before the download is called complete (issue 12)', () => {
  const PAGE = '<html>502 Bad Gateway</html>';
  const dir = (): string => path.join(root, 'Xenova--tiny-bert');

  /** The download fails with DOWNLOAD_FAILED naming the file and what came, and nothing is marked complete. */
  async function refused(message: RegExp): Promise<DownloadError> {
    const error = await failure(() => downloadModel(options({ retries: 0 })));
    assert.equal(error.code, 'DOWNLOAD_FAILED', error.message);
    assert.equal(error.reason, 'bad-content');
    assert.match(error.message, message);
    assert.equal(existsSync(path.join(dir(), MANIFEST_FILE)), false, 'no complete manifest');
    assert.equal(modelDirState(dir()), 'partial');
    return error;
  }

  it('a static mirror answering 200 with an HTML error page for onnx/model.onnx (text/html)', async () => {
    const server = await start(bertLikeFiles(), { mode: 'static' });
    server.faults.set('onnx/model.onnx', { errorPage: PAGE });
    await refused(/^onnx\/model\.onnx from Xenova\/tiny-bert is an HTML page \("502 Bad Gateway"\), not an ONNX model/);
    assert.equal(existsSync(path.join(dir(), 'onnx/model.onnx')), false, 'not put in place');
    assert.equal(existsSync(path.join(dir(), 'onnx/model.onnx.part')), false, 'not kept');
  });

  it('the same page served as application/octet-stream is found by its content', async () => {
    const files = bertLikeFiles().map((f) => (f.path === 'onnx/model.onnx' ? { ...f, content: Buffer.from(PAGE) } : f));
    await start(files, { mode: 'static' });
    await refused(/onnx\/model\.onnx from Xenova\/tiny-bert is an HTML page \("502 Bad Gateway"\), not an ONNX model/);
  });

  it('an error page for every file: config.json is refused first', async () => {
    const files = bertLikeFiles().map((f) => ({ ...f, content: Buffer.from(`<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>`) }));
    await start(files, { mode: 'static' });
    await refused(/^config\.json from Xenova\/tiny-bert is an HTML page \("502 Bad Gateway"\), not JSON/);
  });

  it('Content-Encoding: gzip though the file was asked for as it is', async () => {
    const server = await start(bertLikeFiles(), { mode: 'static' });
    server.faults.set('onnx/model.onnx', { gzip: true });
    await refused(/^onnx\/model\.onnx from Xenova\/tiny-bert is gzip-compressed data \(Content-Encoding: gzip/);
  });

  it('an .onnx that is not a ModelProto, a .json that does not parse, even when the Hub lists their checksums', async () => {
    const garbage = bertLikeFiles().map((f) => (f.path === 'onnx/model.onnx' ? { ...f, content: fakeBytes(5000, 3) } : f));
    hub = await FakeHub.start({ repo: REPO, files: garbage });
    await refused(/^onnx\/model\.onnx from Xenova\/tiny-bert is binary data that does not read as a model/);
    await hub.close();
    await rm(dir(), { recursive: true, force: true });
    const badJson = bertLikeFiles().map((f) => (f.path === 'config.json' ? { ...f, content: Buffer.from('Service Unavailable') } : f));
    hub = await FakeHub.start({ repo: REPO, files: badJson });
    await refused(/^config\.json from Xenova\/tiny-bert is text \("Service Unavailable"\) that does not parse as JSON/);
  });

  it('a model card may hold HTML; only a whole HTML document is refused', async () => {
    const card = '<p align="center"><img src="logo.png"></p>\n# Tiny BERT\n';
    const files = bertLikeFiles().map((f) => (f.path === 'README.md' ? { ...f, content: Buffer.from(card) } : f));
    await start(files, { mode: 'static' });
    const result = await downloadModel(options());
    assert.equal(await readFile(path.join(result.path, 'MODEL_CARD.md'), 'utf8'), card);
  });
});

describe('resuming, integrity and cancellation', () => {
  it('keeps the .part of a dropped connection and resumes it with Range on the next run', async () => {
    const files = bertLikeFiles();
    const server = await start(files);
    server.faults.set('onnx/model.onnx', { drop: { afterBytes: 64 * 1024, times: 1 } });
    const error = await failure(() => downloadModel(options({ retries: 0 })));
    assert.equal(error.code, 'NETWORK');
    assert.equal(error.reason, 'connection-lost');
    const dir = path.join(root, 'Xenova--tiny-bert');
    const part = path.join(dir, 'onnx/model.onnx.part');
    const kept = (await stat(part)).size;
    assert.ok(kept > 0 && kept <= 64 * 1024, `kept ${kept} bytes`);
    assert.equal(isCompleteModelDir(dir), false);

    await downloadModel(options());
    assert.ok(server.fileRequests('onnx/model.onnx').some((r) => r.range === `bytes=${kept}-`), 'resumed with Range');
    assert.ok((await readFile(path.join(dir, 'onnx/model.onnx'))).equals(content(files, 'onnx/model.onnx')));
    assert.ok(!existsSync(part));
    assert.ok(!existsSync(`${part}.json`));
    assert.equal(isCompleteModelDir(dir), true);
  });

  it('retries a dropped connection within one call, resuming where it stopped', async () => {
    const files = bertLikeFiles();
    const server = await start(files);
    server.faults.set('onnx/model.onnx', { drop: { afterBytes: 50_000, times: 2 } });
    const result = await downloadModel(options({ retries: 3 }));
    assert.ok((await readFile(path.join(result.path, 'onnx/model.onnx'))).equals(content(files, 'onnx/model.onnx')));
    const ranges = server.fileRequests('onnx/model.onnx').filter((r) => r.range);
    assert.ok(ranges.length >= 2, 'two resumes');
  });

  it('starts the file over when the server answers a Range request with 200', async () => {
    const files = bertLikeFiles();
    const server = await start(files);
    server.faults.set('onnx/model.onnx', { drop: { afterBytes: 30_000, times: 1 }, ignoreRange: true });
    const result = await downloadModel(options({ retries: 1 }));
    assert.ok(server.fileRequests('onnx/model.onnx').some((r) => r.range), 'asked for a range');
    assert.ok((await readFile(path.join(result.path, 'onnx/model.onnx'))).equals(content(files, 'onnx/model.onnx')));
  });

  it('rejects a corrupt file (sha256 mismatch) and deletes it', async () => {
    const server = await start();
    server.faults.set('onnx/model.onnx', { corrupt: true });
    const error = await failure(() => downloadModel(options()));
    assert.equal(error.code, 'DOWNLOAD_FAILED');
    assert.equal(error.reason, 'integrity');
    assert.match(error.message, /onnx\/model\.onnx.*corrupt \(sha256 [0-9a-f]{64}, expected [0-9a-f]{64}\)/);
    const dir = path.join(root, 'Xenova--tiny-bert');
    assert.ok(!existsSync(path.join(dir, 'onnx/model.onnx')));
    assert.ok(!existsSync(path.join(dir, 'onnx/model.onnx.part')));
    assert.equal(isCompleteModelDir(dir), false);
  });

  it('rejects a corrupt small file by its git blob id', async () => {
    const server = await start();
    server.faults.set('tokenizer.json', { corrupt: true });
    const error = await failure(() => downloadModel(options()));
    assert.equal(error.reason, 'integrity');
    assert.match(error.message, /tokenizer\.json.*git blob id/);
  });

  it('cancels through the AbortSignal, keeps the .part, and resumes later', async () => {
    const files = bertLikeFiles();
    const server = await start(files);
    server.faults.set('onnx/model.onnx', { trickle: { delayMs: 2 } });
    const controller = new AbortController();
    const error = await failure(() =>
      downloadModel(
        options({
          signal: controller.signal,
          onProgress: (p) => {
            if (p.file === 'onnx/model.onnx' && p.fileBytes >= 8 * 1024) {
              controller.abort();
            }
          },
        }),
      ),
    );
    assert.equal(error.code, 'CANCELLED');
    const part = path.join(root, 'Xenova--tiny-bert', 'onnx/model.onnx.part');
    const kept = (await stat(part)).size;
    assert.ok(kept >= 8 * 1024, `kept ${kept} bytes`);

    server.faults.delete('onnx/model.onnx');
    const result = await downloadModel(options());
    assert.ok(server.fileRequests('onnx/model.onnx').some((r) => r.range === `bytes=${kept}-`));
    assert.ok((await readFile(path.join(result.path, 'onnx/model.onnx'))).equals(content(files, 'onnx/model.onnx')));
  });

  it('fails at once with CANCELLED for an already aborted signal', async () => {
    await start();
    const error = await failure(() => downloadModel(options({ signal: AbortSignal.abort() })));
    assert.equal(error.code, 'CANCELLED');
  });

  it('restarts a .part that belongs to another version of the file', async () => {
    const files = bertLikeFiles();
    const server = await start(files);
    const dir = path.join(root, 'Xenova--tiny-bert');
    await mkdir(path.join(dir, 'onnx'), { recursive: true });
    await writeFile(path.join(dir, '.lm-lens-download.json'), JSON.stringify({ repo: REPO, variant: 'fp32' }));
    await writeFile(path.join(dir, 'onnx/model.onnx.part'), fakeBytes(5000, 77));
    await writeFile(
      path.join(dir, 'onnx/model.onnx.part.json'),
      JSON.stringify({ remote: 'onnx/model.onnx', sha256: 'f'.repeat(64), size: 200_000 }),
    );
    const result = await downloadModel(options({ retries: 0 })); // starting over is not a retry
    assert.ok((await readFile(path.join(result.path, 'onnx/model.onnx'))).equals(content(files, 'onnx/model.onnx')));
    assert.ok(server.fileRequests('onnx/model.onnx').length >= 2);
  });
});

describe('network failures and safety checks', () => {
  it('says the server is unreachable when the connection is refused', async () => {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const error = await failure(() => downloadModel(options({ endpoint: `http://127.0.0.1:${port}` })));
    assert.equal(error.code, 'NETWORK');
    assert.equal(error.reason, 'offline');
    assert.match(error.message, /connection was refused/);
  });

  it('times out a server that never answers', async () => {
    const server = http.createServer(() => {
      // never answers
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const port = (server.address() as AddressInfo).port;
      const error = await failure(() =>
        downloadModel(options({ endpoint: `http://127.0.0.1:${port}`, timeoutMs: 150, retries: 0 })),
      );
      assert.equal(error.code, 'NETWORK');
      assert.equal(error.reason, 'timeout');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('times out a server that trickles a file a few bytes at a time, keeping the .part to resume (issue 12)', { timeout: 60_000 }, async () => {
    // 4 bytes every 20 ms never leaves the connection idle for 400 ms, so only the stall watch ends it
    const server = await start();
    server.faults.set('onnx/model.onnx', { trickle: { delayMs: 20, bytes: 4 } });
    const started = Date.now();
    const error = await failure(() => downloadModel(options({ timeoutMs: 400, retries: 1 })));
    assert.equal(error.code, 'NETWORK');
    assert.equal(error.reason, 'timeout');
    assert.match(error.message, /onnx\/model\.onnx.*sent only \d+ bytes in 0\.4 s, too slow/);
    assert.ok(Date.now() - started < 30_000, `gave up in ${Date.now() - started} ms`);
    assert.ok(server.fileRequests('onnx/model.onnx').some((r) => r.range?.startsWith('bytes=')), 'the retry resumed the .part');
    const dir = path.join(root, 'Xenova--tiny-bert');
    assert.ok((await stat(path.join(dir, 'onnx', 'model.onnx.part'))).size > 0, 'what came is kept for a resume');
    assert.equal(isCompleteModelDir(dir), false);
  });

  it('times out headers sent a byte at a time', { timeout: 60_000 }, async () => {
    const server = http.createServer((req, res) => {
      const head = 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n';
      let at = 0;
      const step = (): void => {
        if (res.socket?.destroyed || at >= head.length) return;
        res.socket?.write(head[at++]!);
        setTimeout(step, 50);
      };
      void req;
      step();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const port = (server.address() as AddressInfo).port;
      const error = await failure(() => downloadModel(options({ endpoint: `http://127.0.0.1:${port}`, timeoutMs: 300, retries: 0 })));
      assert.equal(error.code, 'NETWORK');
      assert.equal(error.reason, 'timeout');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('refuses plain http to another machine, before any connection', async () => {
    for (const endpoint of ['http://example.com', 'http://10.0.0.1:8080', 'ftp://127.0.0.1/', 'https://user:pw@huggingface.co']) {
      const error = await failure(() => downloadModel(options({ endpoint })));
      assert.equal(error.code, 'BAD_INPUT', endpoint);
      assert.equal(error.reason, 'unsafe-url', endpoint);
    }
  });

  it('refuses a redirect to plain http on another machine', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(302, { location: 'http://example.invalid/cdn/file' });
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const port = (server.address() as AddressInfo).port;
      const error = await failure(() => downloadModel(options({ endpoint: `http://127.0.0.1:${port}` })));
      assert.equal(error.reason, 'unsafe-url');
      assert.match(error.message, /only https/);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('gives up after 5 redirects', async () => {
    let hits = 0;
    const server = http.createServer((_req, res) => {
      hits++;
      res.writeHead(302, { location: `/loop${hits}` });
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const port = (server.address() as AddressInfo).port;
      const error = await failure(() => downloadModel(options({ endpoint: `http://127.0.0.1:${port}` })));
      assert.match(error.message, /Too many redirects/);
      assert.ok(hits <= 6 * 3, `bounded (${hits} requests)`);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('says when the repository does not exist', async () => {
    await start();
    const error = await failure(() => downloadModel(options({ repo: 'Xenova/no-such-model' })));
    assert.equal(error.code, 'MODEL_NOT_FOUND');
    assert.match(error.message, /Xenova\/no-such-model@main: the repository does not exist/);
  });

  it('validates repo ids and file paths', async () => {
    for (const repo of ['../etc', 'owner', 'a/b/c', 'owner/..', 'owner/na..me', 'owner/-x', 'own er/x', 'a\\b/c', 'x--y/z', '']) {
      assert.throws(() => validateRepoId(repo), { code: 'BAD_INPUT' }, repo);
      const error = await failure(() => downloadModel(options({ repo })));
      assert.equal(error.code, 'BAD_INPUT');
    }
    for (const repo of ['Xenova/bert-base-uncased', 'openai-community/gpt2', 'a/b', 'sentence-transformers/all-MiniLM-L6-v2']) {
      assert.equal(validateRepoId(repo), repo);
    }
    for (const file of ['../x', '/etc/passwd', 'onnx/../../x', 'a\\b', 'C:/x', 'a//b', './a', 'a/.', '']) {
      assert.throws(() => validateRepoPath(file), { code: 'BAD_INPUT' }, file);
    }
    assert.equal(validateRepoPath('onnx/model.onnx'), 'onnx/model.onnx');
    await assert.rejects(downloadModel(options({ id: '../escape' })), { code: 'BAD_INPUT' });
    await assert.rejects(downloadModel(options({ revision: '../main' })), { code: 'BAD_INPUT' });
  });

  it('describes progress in one line', () => {
    const base = { file: 'onnx/model.onnx', fileIndex: 9, fileCount: 9, fileBytes: 0 };
    assert.equal(describeProgress({ ...base, phase: 'listing', bytesDone: 0, bytesPerSecond: 0 }), 'Listing the repository…');
    assert.equal(
      describeProgress({ ...base, phase: 'downloading', bytesDone: 198_200_000, bytesTotal: 438_000_000, bytesPerSecond: 12_300_000, etaSeconds: 19.4 }),
      'onnx/model.onnx (9/9) 45% · 198.2 MB of 438.0 MB · 12.3 MB/s · 0:19 left',
    );
    assert.equal(describeProgress({ ...base, phase: 'downloading', bytesDone: 512, bytesPerSecond: 0 }), 'onnx/model.onnx (9/9) · 512 B');
    assert.equal(describeProgress({ ...base, phase: 'done', bytesDone: 1500, bytesPerSecond: 0 }), 'Done: 1.5 KB');
  });

  it('knows loopback hosts', () => {
    for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '[::1]', '::1']) {
      assert.equal(isLoopbackHost(host), true, host);
    }
    for (const host of ['example.com', '10.0.0.1', '128.0.0.1', 'localhost.example.com', '[::2]']) {
      assert.equal(isLoopbackHost(host), false, host);
    }
  });

  it('judges folders it did not download by their content', async () => {
    const handMade = path.join(root, 'hand-made');
    await mkdir(handMade);
    assert.equal(isCompleteModelDir(handMade), false);
    await writeFile(path.join(handMade, 'config.json'), '{}');
    assert.equal(modelDirState(handMade), 'unmanaged');
    assert.equal(isCompleteModelDir(handMade), true);
    assert.equal(isCompleteModelDir(path.join(root, 'nothing-here')), false);
    await assert.rejects(downloadModel(options({ id: 'hand-made', endpoint: 'http://127.0.0.1:9' })), { code: 'BAD_INPUT' });
  });

  it('treats a download whose files were damaged afterwards as partial', async () => {
    await start();
    const result = await downloadModel(options());
    await writeFile(path.join(result.path, 'config.json'), '{"truncated":');
    assert.equal(modelDirState(result.path), 'partial');
    assert.equal(isCompleteModelDir(result.path), false);
  });
});
