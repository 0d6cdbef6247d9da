import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Returns the reason a --report FILE could not be written at the end of a run, or undefined when
 * its folder exists and the path is not a folder. The check runs before the bench starts, because
 * a run takes minutes and a report that fails to write at the end loses them.
 */
export function reportPathProblem(path: string): string | undefined {
  const folder = dirname(resolve(path));
  let isFolder: boolean;
  try {
    isFolder = statSync(folder).isDirectory();
  } catch {
    return `invalid --report "${path}": the folder ${folder} does not exist; create it first`;
  }
  if (!isFolder) return `invalid --report "${path}": ${folder} is not a folder`;
  try {
    if (statSync(resolve(path)).isDirectory()) return `invalid --report "${path}": it is a folder; give a file name`;
  } catch {
    // A report file that does not exist yet is the usual case.
  }
  return undefined;
}
