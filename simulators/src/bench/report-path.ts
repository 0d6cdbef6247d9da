import { type Stats, accessSync, constants, lstatSync, readlinkSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Symlinks followed before a report path counts as a loop, the limit Linux applies. */
const MAX_SYMLINKS = 40;

/**
 * Returns the reason a --report FILE could not be written at the end of a run, or undefined when
 * it can. An existing path must be a writable file (or a device such as /dev/stdout). A new file
 * needs an existing, writable folder, and a dangling symlink is checked at its target, which
 * writing creates. The check runs before the bench starts, because a run takes minutes and a
 * report that fails to write at the end loses them.
 */
export function reportPathProblem(path: string): string | undefined {
  const absolute = resolve(path);
  let existing: Stats | undefined;
  try {
    existing = statSync(absolute);
  } catch {
    // A report file that does not exist yet is the usual case.
  }
  if (existing?.isDirectory()) return `invalid --report "${path}": it is a folder; give a file name`;
  if (existing) return writableProblem(path, absolute, 'the file');

  const target = symlinkTarget(absolute);
  if (target === undefined) return `invalid --report "${path}": it is a symlink loop`;
  const folder = dirname(target);
  let isFolder: boolean;
  try {
    isFolder = statSync(folder).isDirectory();
  } catch {
    return `invalid --report "${path}": the folder ${folder} does not exist; create it first`;
  }
  if (!isFolder) return `invalid --report "${path}": ${folder} is not a folder`;
  return writableProblem(path, folder, 'the folder');
}

function writableProblem(path: string, checked: string, kind: 'the file' | 'the folder'): string | undefined {
  try {
    accessSync(checked, constants.W_OK);
    return undefined;
  } catch (error) {
    return `invalid --report "${path}": ${kind} ${checked} is not writable (${(error as NodeJS.ErrnoException).code}); choose another path`;
  }
}

/** Returns the path that the symlinks at `path` lead to, `path` itself when it is no symlink, or undefined for a loop. */
function symlinkTarget(path: string): string | undefined {
  let target = path;
  for (let followed = 0; followed <= MAX_SYMLINKS; followed += 1) {
    let isLink: boolean;
    try {
      isLink = lstatSync(target).isSymbolicLink();
    } catch {
      return target;
    }
    if (!isLink) return target;
    target = resolve(dirname(target), readlinkSync(target));
  }
  return undefined;
}
