// Creating output folders without Node's recursive mkdir, which spins forever on paths it
// cannot create (e.g. under /proc): each missing level is made on its own, so the loop is
// bounded by the path's depth and the first failure is reported with its path and reason.
import { nodeFs, nodePath } from './node-modules.js';


/**
 * Makes `directory` (and missing parents) and checks that files can be written in it, or
 * fails at once with the path and the reason. Call it for every output location before
 * long work starts.
 * @example await ensureWritableDirectory('runs/teacher');
 */
export async function ensureWritableDirectory(directory: string, purpose = 'output folder'): Promise<void> {
  const [fs, path] = await Promise.all([nodeFs(), nodePath()]);
  const absolute = path.resolve(directory);
  const levels: string[] = [];
  for (let p = absolute; ; p = path.dirname(p)) {
    levels.unshift(p);
    if (path.dirname(p) === p) break;
  }
  for (const level of levels) {
    let stats: import('node:fs').Stats | undefined;
    try {
      stats = await fs.stat(level);
    } catch {
      stats = undefined;
    }
    if (stats) {
      if (!stats.isDirectory()) throw new Error(`cannot use ${directory} (the ${purpose}): ${level} exists and is not a folder`);
      continue;
    }
    try {
      await fs.mkdir(level);
    } catch (cause) {
      const error = cause as NodeJS.ErrnoException;
      if (error.code !== 'EEXIST') throw new Error(`cannot create ${directory} (the ${purpose}): mkdir ${level} failed (${error.code ?? error.message}); choose a folder you can write to`);
    }
  }
  const probe = path.join(absolute, `.kdgpu-write-test-${process.pid}-${Date.now()}`);
  try {
    await fs.writeFile(probe, '');
    await fs.rm(probe, { force: true });
  } catch (cause) {
    throw new Error(`cannot write in ${directory} (the ${purpose}): ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}; choose a folder you can write to`);
  }
}

/** ensureWritableDirectory for the folder that will hold `file`. */
export async function ensureWritableFileLocation(file: string, purpose = 'output file'): Promise<void> {
  const path = await nodePath();
  await ensureWritableDirectory(path.dirname(path.resolve(file)), `folder of the ${purpose} ${file}`);
}
