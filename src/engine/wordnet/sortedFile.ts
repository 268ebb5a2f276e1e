/**
 * Reads lines of a large text file by byte offset: WordNet's data.<pos> files are addressed by byte offset (a
 * synset's offset IS its byte offset), and index.sense is sorted by byte value, so a binary search over byte
 * offsets finds a lemma's sense keys in ~20 steps. `inMemory` files are read whole once (index.sense, 7 MB: its
 * binary search took ~45 file reads, ~10 ms of every hover); the others are read a chunk at a time.
 */
import { open, readFile, type FileHandle } from 'node:fs/promises';

const CHUNK = 4096;

export class LineFile {
  private handle: Promise<FileHandle> | undefined;
  private size: Promise<number> | undefined;
  private whole: Promise<Buffer> | undefined;

  constructor(
    readonly file: string,
    private readonly options: { inMemory?: boolean } = {},
  ) {}

  private contents(): Promise<Buffer> {
    if (!this.whole) {
      const reading = readFile(this.file);
      reading.catch(() => {
        if (this.whole === reading) this.whole = undefined;
      });
      this.whole = reading;
    }
    return this.whole;
  }

  /** Up to CHUNK bytes from byte `at` (fewer at the end of the file). */
  private async chunk(at: number): Promise<Buffer> {
    if (this.options.inMemory) return (await this.contents()).subarray(at, at + CHUNK);
    const h = await this.fileHandle();
    const buffer = Buffer.alloc(CHUNK);
    const { bytesRead } = await h.read(buffer, 0, CHUNK, at);
    return buffer.subarray(0, bytesRead);
  }

  private fileHandle(): Promise<FileHandle> {
    if (!this.handle) {
      const opening = open(this.file, 'r');
      opening.catch(() => {
        if (this.handle === opening) this.handle = undefined;
      });
      this.handle = opening;
    }
    return this.handle;
  }

  async byteSize(): Promise<number> {
    if (this.options.inMemory) return (await this.contents()).length;
    this.size ??= this.fileHandle().then(async (h) => (await h.stat()).size);
    return this.size;
  }

  /** The line that starts at byte `offset` (without its newline); '' past the end. */
  async lineAt(offset: number): Promise<string> {
    const parts: Buffer[] = [];
    for (let at = offset; ; at += CHUNK) {
      const chunk = await this.chunk(at);
      const nl = chunk.indexOf(10);
      if (nl >= 0) {
        parts.push(chunk.subarray(0, nl));
        break;
      }
      parts.push(chunk);
      if (chunk.length < CHUNK) break;
    }
    return Buffer.concat(parts).toString('utf8');
  }

  /** The first line start at or after byte `offset` (the file size when there is none). */
  private async nextLineStart(offset: number): Promise<number> {
    if (offset <= 0) return 0;
    const size = await this.byteSize();
    for (let at = offset - 1; at < size; at += CHUNK) {
      const chunk = await this.chunk(at);
      const nl = chunk.indexOf(10);
      if (nl >= 0) return at + nl + 1;
      if (chunk.length < CHUNK) break;
    }
    return size;
  }

  /**
   * Every line starting with `prefix`, in a file whose lines are sorted by byte value (WordNet's index.sense;
   * index.<pos> files too, after their licence header, whose lines start with spaces and so sort first).
   */
  async linesWithPrefix(prefix: string): Promise<string[]> {
    const key = Buffer.from(prefix, 'utf8');
    const size = await this.byteSize();
    const compareAt = async (start: number): Promise<number> => {
      const head = Buffer.from(await this.lineAt(start), 'utf8');
      return Buffer.compare(head.subarray(0, key.length), key);
    };
    // the smallest byte position whose next line sorts >= prefix (monotone in the position)
    let lo = 0;
    let hi = size;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const start = await this.nextLineStart(mid);
      if (start >= size || (await compareAt(start)) >= 0) hi = mid;
      else lo = mid + 1;
    }
    const out: string[] = [];
    for (let at = await this.nextLineStart(lo); at < size; ) {
      const line = await this.lineAt(at);
      const head = Buffer.from(line, 'utf8');
      if (Buffer.compare(head.subarray(0, key.length), key) !== 0) break;
      out.push(line);
      at += head.length + 1;
    }
    return out;
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    this.size = undefined;
    this.whole = undefined;
    if (handle) await (await handle).close().catch(() => undefined);
  }
}

/**
 * The line of `text` whose first space-separated field is `key`, or undefined: a binary search over character
 * positions, for text whose lines are sorted by code unit (WordNet's index.<pos>: ASCII, byte-sorted; its licence
 * header's lines start with a space, so their empty first field sorts first). A key that holds a space or a line
 * break is in no such line. `LineFile.linesWithPrefix` is the same search over a file's bytes, but asynchronous:
 * morphy asks `has(lemma)` synchronously, several times a hover, so the index files are searched here as strings.
 */
export function lineWithField(text: string, key: string): string | undefined {
  if (key === '' || /[ \n]/.test(key)) return undefined;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const start = mid === 0 ? 0 : text.lastIndexOf('\n', mid - 1) + 1; // the line that holds position mid
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let fieldEnd = text.indexOf(' ', start);
    if (fieldEnd < 0 || fieldEnd > end) fieldEnd = end;
    const field = text.slice(start, fieldEnd);
    if (field === key) return text.slice(start, end);
    if (field < key) lo = end + 1;
    else hi = start;
  }
  return undefined;
}
