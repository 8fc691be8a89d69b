// Node-only file access (node: modules through node-modules.ts, so browser builds never load them).
import { nodeFs, nodePath } from './node-modules.js';

/**
 * Writes `bytes` to `path` so that a crash leaves either the old file or the new one, never
 * a half-written file: write a temporary file in the same directory, fsync it, rename it
 * over the target, then fsync the directory so the rename itself is durable.
 * @example await writeFileAtomic('student.safetensors', bytes);
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const [fs, paths] = await Promise.all([nodeFs(), nodePath()]);
  const directory = paths.dirname(path);
  // Same directory, so the rename never crosses file systems; a unique name per writer.
  const temporary = paths.join(directory, `.${paths.basename(path)}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    const handle = await fs.open(temporary, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temporary, path);
  } catch (cause) {
    await fs.rm(temporary, { force: true });
    throw new Error(`cannot write ${path} (${(cause as Error).message})`);
  }
  await syncDirectory(fs, directory);
}

/** Some platforms (Windows) cannot open a directory for fsync; the rename stands anyway. */
async function syncDirectory(fs: typeof import('node:fs/promises'), directory: string): Promise<void> {
  let handle: import('node:fs/promises').FileHandle | undefined;
  try {
    handle = await fs.open(directory, 'r');
    await handle.sync();
  } catch {
    // Best effort: the data file itself was already synced before the rename.
  } finally {
    await handle?.close();
  }
}

/**
 * Reads a whole file as bytes; the error names the path.
 * @example const bytes = await readFileBytes('student.safetensors');
 */
export async function readFileBytes(path: string): Promise<Uint8Array> {
  const fs = await nodeFs();
  try {
    return new Uint8Array(await fs.readFile(path));
  } catch (cause) {
    throw new Error(`cannot read ${path} (${(cause as Error).message})`);
  }
}
