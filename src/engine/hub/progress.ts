/**
 * Download progress: bytes done and total over the whole model, rate over the last few seconds,
 * ETA, and the current file. Callbacks are throttled; file boundaries are always reported.
 */

export interface DownloadProgress {
  phase: 'listing' | 'downloading' | 'done';
  /** Repository path of the file being downloaded ('' while listing). */
  file: string;
  /** 1-based position of the file and the number of files planned (grows in mirror mode). */
  fileIndex: number;
  fileCount: number;
  fileBytes: number;
  fileTotal?: number;
  /** Over the whole model, including bytes resumed from an earlier run. */
  bytesDone: number;
  /** Undefined until the size of every file is known. */
  bytesTotal?: number;
  /** Network rate over the last few seconds. */
  bytesPerSecond: number;
  etaSeconds?: number;
}

export type ProgressCallback = (progress: DownloadProgress) => void;

const WINDOW_MS = 5000;
const THROTTLE_MS = 100;
const SAMPLE_MS = 100;

export class ProgressTracker {
  private readonly sizes = new Map<string, number | undefined>();
  private readonly done = new Map<string, number>();
  private readonly samples: Array<{ t: number; bytes: number }> = [];
  private transferred = 0;
  private lastEmit = 0;
  private file = '';
  private fileIndex = 0;

  constructor(
    private readonly callback: ProgressCallback | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** Declares a planned file (size undefined when not known yet). */
  plan(file: string, size?: number): void {
    if (!this.sizes.has(file) || size !== undefined) {
      this.sizes.set(file, size);
    }
  }

  /** Drops a planned file that turned out not to exist (an optional file, or a candidate that 404ed). */
  unplan(file: string): void {
    this.sizes.delete(file);
    this.done.delete(file);
  }

  /** Starts a file: `resumed` bytes are already on disk. */
  start(file: string, size: number | undefined, resumed: number): void {
    this.plan(file, size);
    this.file = file;
    this.fileIndex = [...this.sizes.keys()].indexOf(file) + 1;
    this.done.set(file, resumed);
    this.emit('downloading', true);
  }

  /** Bytes received from the network for the current file. */
  advance(bytes: number): void {
    this.done.set(this.file, (this.done.get(this.file) ?? 0) + bytes);
    this.transferred += bytes;
    this.emit('downloading', false);
  }

  /** The server ignored a resume: the file starts again from 0. */
  restart(): void {
    this.done.set(this.file, 0);
  }

  finish(file: string, size: number): void {
    this.sizes.set(file, size);
    this.done.set(file, size);
    this.emit('downloading', true);
  }

  listing(): void {
    this.report({
      phase: 'listing',
      file: '',
      fileIndex: 0,
      fileCount: 0,
      fileBytes: 0,
      bytesDone: 0,
      bytesPerSecond: 0,
    });
  }

  complete(): void {
    this.emit('done', true);
  }

  /** Sum of the known sizes, and whether every size is known. */
  totals(): { known: number; allKnown: boolean } {
    let known = 0;
    let allKnown = true;
    for (const size of this.sizes.values()) {
      if (size === undefined) {
        allKnown = false;
      } else {
        known += size;
      }
    }
    return { known, allKnown };
  }

  private rate(t: number): number {
    const last = this.samples.at(-1);
    if (!last || t - last.t >= SAMPLE_MS) {
      this.samples.push({ t, bytes: this.transferred }); // at most one sample per SAMPLE_MS: ~50 in the window
    }
    while (this.samples.length > 1 && t - this.samples[0].t > WINDOW_MS) {
      this.samples.shift();
    }
    const first = this.samples[0];
    const elapsed = (t - first.t) / 1000;
    return elapsed > 0 ? (this.transferred - first.bytes) / elapsed : 0;
  }

  /** A throwing callback must not break the download (it would surface as a network error). */
  private report(progress: DownloadProgress): void {
    try {
      this.callback?.(progress);
    } catch {
      // the caller's problem; the download goes on
    }
  }

  private emit(phase: DownloadProgress['phase'], force: boolean): void {
    const t = this.now();
    const bytesPerSecond = this.rate(t);
    if (!this.callback || (!force && t - this.lastEmit < THROTTLE_MS)) {
      return;
    }
    this.lastEmit = t;
    let bytesDone = 0;
    for (const bytes of this.done.values()) {
      bytesDone += bytes;
    }
    const { known, allKnown } = this.totals();
    const bytesTotal = allKnown ? Math.max(known, bytesDone) : undefined;
    const etaSeconds =
      bytesTotal !== undefined && bytesPerSecond > 0 ? Math.max(0, (bytesTotal - bytesDone) / bytesPerSecond) : undefined;
    this.report({
      phase,
      file: this.file,
      fileIndex: this.fileIndex,
      fileCount: this.sizes.size,
      fileBytes: this.done.get(this.file) ?? 0,
      fileTotal: this.sizes.get(this.file),
      bytesDone,
      bytesTotal,
      bytesPerSecond,
      etaSeconds: phase === 'done' ? 0 : etaSeconds,
    });
  }
}

/** `438.0 MB` (powers of 1000, like the Hub shows sizes). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m` : `${m}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * One line for a status bar or a terminal:
 * `onnx/model.onnx (9/9) 45% · 198.2 MB of 438.0 MB · 12.3 MB/s · 0:19 left`.
 */
export function describeProgress(p: DownloadProgress): string {
  if (p.phase === 'listing') {
    return 'Listing the repository…';
  }
  if (p.phase === 'done') {
    return `Done: ${formatBytes(p.bytesDone)}`;
  }
  const parts = [`${p.file} (${p.fileIndex}/${p.fileCount})`];
  if (p.bytesTotal !== undefined && p.bytesTotal > 0) {
    parts[0] += ` ${Math.floor((100 * p.bytesDone) / p.bytesTotal)}%`;
    parts.push(`${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`);
  } else {
    parts.push(formatBytes(p.bytesDone));
  }
  if (p.bytesPerSecond > 0) {
    parts.push(`${formatBytes(p.bytesPerSecond)}/s`);
  }
  if (p.etaSeconds !== undefined) {
    parts.push(`${formatDuration(p.etaSeconds)} left`);
  }
  return parts.join(' · ');
}
