/**
 * Whether a folder LM Lens is about to create or write into can hold its data, checked before anything is
 * created: `mkdir -p` under /proc loops forever in Node 20 (100% CPU, no answer), and a file in the way or a
 * read-only folder fails late with a bare errno. Pure Node: no `vscode`, no ONNX Runtime.
 */
import { constants, type Stats } from 'node:fs';
import { access, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { badInput } from './errors';

/** Kernel pseudo-filesystems (statfs f_type) where no folder of ours can live. */
const PSEUDO_FILESYSTEMS = new Map<number, string>([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0xcafe4a11, 'bpf'],
  [0x62656570, 'configfs'],
  [0x6165676c, 'pstore'],
  [0xde5e81e4, 'efivarfs'],
  [0x42494e4d, 'binfmt_misc'],
]);

/** Paths refused by name too, wherever statfs is not available. */
const PSEUDO_ROOTS = ['/proc', '/sys'];

async function statOrCode(file: string): Promise<Stats | string> {
  try {
    return await stat(file);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  }
}

function under(dir: string, root: string): boolean {
  return dir === root || dir.startsWith(root + path.sep);
}

/**
 * BAD_INPUT unless `dir` is, or can be created as, a writable folder: it (or the nearest part of its path that
 * exists) must be a folder, outside /proc, /sys and other kernel pseudo-filesystems, that this process may write
 * into. `what` names the setting in the message (e.g. `LM_LENS_HOME=/proc/nope`), `next` says what to do.
 */
export async function checkWritableFolder(dir: string, what: string, next = 'Choose a folder you can write to.'): Promise<void> {
  const resolved = path.resolve(dir);
  const refuse = (why: string): never => {
    throw badInput(`${what} cannot hold LM Lens's data: ${why}. ${next}`);
  };
  if (process.platform === 'linux') {
    const root = PSEUDO_ROOTS.find((r) => under(resolved, r));
    if (root) refuse(`${root} is a kernel pseudo-filesystem`);
  }
  // The nearest existing part of the path: the folder itself, or the one it would be created in.
  let existing = resolved;
  for (;;) {
    const found = await statOrCode(existing);
    if (typeof found !== 'string') {
      if (!found.isDirectory()) refuse(existing === resolved ? `${existing} is not a folder` : `${existing} is a file, not a folder`);
      break;
    }
    if (found === 'ENOTDIR') refuse(`a part of ${resolved} is a file, not a folder`);
    if (found !== 'ENOENT') refuse(`${existing} cannot be read (${found})`);
    const parent = path.dirname(existing);
    if (parent === existing) refuse(`no part of ${resolved} exists`);
    existing = parent;
  }
  const type = await statfs(existing).then(
    (info) => info.type,
    () => undefined, // statfs not supported here: the path checks above are all there is
  );
  const filesystem = type === undefined ? undefined : PSEUDO_FILESYSTEMS.get(type);
  if (filesystem) refuse(`${existing} is on a kernel pseudo-filesystem (${filesystem})`);
  try {
    await access(existing, constants.W_OK | constants.X_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'not writable';
    refuse(existing === resolved ? `${existing} is not writable (${code})` : `${existing}, where it would be created, is not writable (${code})`);
  }
}
