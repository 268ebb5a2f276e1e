/**
 * Reading a text file that a command was pointed at (`score --file`, `eval … --file`): every failure a BAD_INPUT
 * that names the file, and a binary file refused at once rather than scored for minutes as if its bytes were text.
 */
import { readFile } from 'node:fs/promises';
import { badInput } from './errors';

/** How far into a file to look for a NUL byte: git's test for a binary file (its `buffer_is_binary`). */
const BINARY_PROBE_BYTES = 8000;

/** The file as UTF-8 text; BAD_INPUT for a folder, a file that cannot be read, or a binary file. */
export async function readTextFile(file: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw badInput(`${file} is a folder; give a file.`);
    throw badInput(`Cannot read ${file}: ${code ?? String(error)}.`);
  }
  if (bytes.subarray(0, BINARY_PROBE_BYTES).includes(0)) {
    throw badInput(`${file} looks like a binary file (a NUL byte in its first ${BINARY_PROBE_BYTES} bytes); give a text file.`);
  }
  return bytes.toString('utf8');
}
