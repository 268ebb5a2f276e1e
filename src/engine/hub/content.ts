/**
 * Is what arrived the file that was asked for? A static mirror or a proxy can answer 200 with an HTML error
 * page ("502 Bad Gateway") or gzip a file asked for as it is (Accept-Encoding: identity); without checksums
 * (a mirror has no listing) nothing else would notice, and the broken model would be marked complete. So,
 * before a file is put in place: no file may be an HTML page or compressed, an .onnx file must be a
 * ModelProto with a graph (read as the model store reads it), and a .json file must parse. The error says
 * which file and what came instead, so a broken mirror is not taken for a broken model.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { open, readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { readOnnxSignature } from '../onnxSignature';
import { DownloadError } from './errors';

type Kind = 'onnx' | 'json' | 'text' | 'data';

/** What a file in the model folder must be, by its name. */
function kindOf(local: string): Kind {
  if (local.endsWith('.onnx')) return 'onnx';
  if (local.endsWith('.json')) return 'json';
  if (/\.(txt|md)$/.test(local)) return 'text';
  return 'data'; // external weights (.onnx_data): raw bytes, nothing to parse
}

const EXPECTED: Record<Kind, string> = {
  onnx: 'an ONNX model',
  json: 'JSON',
  text: 'a plain-text file',
  data: 'model weights',
};

const SNIFF_BYTES = 16 * 1024;

/** `an HTML page ("502 Bad Gateway")` for the start of an HTML document, else undefined. */
export function describeHtml(head: string): string | undefined {
  const text = head.replace(/^\uFEFF/, '').trimStart();
  if (!/^<(!doctype\s+html|html|head|body|title)[\s>]/i.test(text)) return undefined;
  const title = /<title[^>]*>([^<]*)</i.exec(text)?.[1];
  const words = (title ?? text.replace(/<!--[\s\S]*?-->|<(script|style)[\s\S]*?<\/\1>|<[^>]*>/gi, ' '))
    .replace(/\s+/g, ' ')
    .trim();
  return words ? `an HTML page ("${words.length > 80 ? `${words.slice(0, 77)}...` : words}")` : 'an HTML page';
}

function refused(what: string, arrived: string, kind: Kind, url: string): DownloadError {
  return new DownloadError(
    'DOWNLOAD_FAILED',
    'bad-content',
    `${what} is ${arrived}, not ${EXPECTED[kind]}: the server sent that instead of the file, and it was not kept. ` +
      'Check the endpoint (a mirror must serve the repository files unchanged), then run again.',
    { url },
  );
}

/**
 * Refuses an answer by its headers, before its body is saved: compressed (Content-Encoding other than
 * identity), or an HTML page (Content-Type text/html; up to 16 KiB of it are read for the message). The body
 * is consumed or destroyed when this returns an error.
 */
export async function refuseByHeaders(
  headers: IncomingHttpHeaders,
  body: Readable,
  what: string,
  local: string,
  url: string,
): Promise<DownloadError | undefined> {
  const kind = kindOf(local);
  const encoding = headers['content-encoding']?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') {
    body.destroy();
    return refused(what, `${encoding}-compressed data (Content-Encoding: ${encoding}, though the file was asked for as it is)`, kind, url);
  }
  const type = headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'text/html' && type !== 'application/xhtml+xml') return undefined;
  const head = await readHead(body);
  return refused(what, describeHtml(head) ?? `a web page (Content-Type: ${type})`, kind, url);
}

async function readHead(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= SNIFF_BYTES) break; // leaving the loop destroys the response
    }
  } catch {
    // what arrived so far is enough for the message
  }
  return Buffer.concat(chunks).subarray(0, SNIFF_BYTES).toString('utf8');
}

/** Refuses a downloaded file (at `file`, not yet in place) that is not what its name says; see the file comment. */
export async function checkContent(file: string, what: string, local: string, url: string): Promise<DownloadError | undefined> {
  const kind = kindOf(local);
  const head = await readFileHead(file);
  const html = describeHtml(head.toString('utf8'));
  if (html) return refused(what, html, kind, url);
  if (kind !== 'data' && head[0] === 0x1f && head[1] === 0x8b) return refused(what, 'gzip-compressed data', kind, url);
  if (kind === 'onnx') {
    try {
      await readOnnxSignature(file);
    } catch (error) {
      return refused(what, `${describeBytes(head)} that does not read as a model (${(error as Error).message})`, kind, url);
    }
  } else if (kind === 'json') {
    try {
      JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      return refused(what, `${describeBytes(head)} that does not parse as JSON (${(error as Error).message})`, kind, url);
    }
  }
  return undefined;
}

async function readFileHead(file: string): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** `text ("Service Unavailable")` for printable text, else `binary data`; `an empty file` for none. */
function describeBytes(head: Buffer): string {
  if (head.length === 0) return 'an empty file';
  const text = head.subarray(0, 200).toString('utf8');
  if (/^[\p{L}\p{N}\p{P}\p{S}\p{Zs}\t\r\n]+$/u.test(text.replace(/\uFFFD$/, ''))) {
    const words = text.replace(/\s+/g, ' ').trim();
    return `text ("${words.length > 60 ? `${words.slice(0, 57)}...` : words}")`;
  }
  return 'binary data';
}
