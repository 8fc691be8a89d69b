// Atomic file writes and reads (src/io/atomic-write.ts) and the .safetensors file wrappers
// (src/io/safetensors-file.ts), in a fresh temporary directory per test file.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tensor } from '../../src/index.js';
import { readFileBytes, writeFileAtomic } from '../../src/io/atomic-write.js';
import { loadSafetensorsFile, saveSafetensorsFile } from '../../src/io/safetensors-file.js';
import { useGpu } from '../support/gpu.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kdgpu-io-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('writeFileAtomic / readFileBytes', () => {
  it('writes a new file and replaces an existing one, leaving no temporary file', async () => {
    const path = join(dir, 'weights.bin');
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    expect(Array.from(await readFileBytes(path))).toEqual([1, 2, 3]);
    await writeFileAtomic(path, new Uint8Array([9, 8]));
    expect(Array.from(await readFile(path))).toEqual([9, 8]);
    expect(await readdir(dir)).toEqual(['weights.bin']);
    await rm(path);
  });

  it('a failed write names the path, keeps what was there and leaves no temporary file', async () => {
    const missing = join(dir, 'no-such-dir', 'weights.bin');
    await expect(writeFileAtomic(missing, new Uint8Array([1]))).rejects.toThrow(`cannot write ${missing} (ENOENT`);
    // A directory in the way makes the final rename fail after the temporary file was written.
    const blocked = join(dir, 'blocked');
    await mkdir(blocked);
    await writeFile(join(blocked, 'keep'), 'old');
    await expect(writeFileAtomic(blocked, new Uint8Array([1]))).rejects.toThrow(`cannot write ${blocked} (`);
    expect(await readdir(dir)).toEqual(['blocked']);
    expect(await readFile(join(blocked, 'keep'), 'utf8')).toBe('old');
    await rm(blocked, { recursive: true });
  });

  it('a failed read names the path', async () => {
    const missing = join(dir, 'absent.safetensors');
    await expect(readFileBytes(missing)).rejects.toThrow(`cannot read ${missing} (ENOENT`);
  });
});

describe('saveSafetensorsFile / loadSafetensorsFile', () => {
  const gpu = useGpu();

  it('round-trips GPU tensors through a file and names the file in load errors', async () => {
    const ctx = gpu();
    const path = join(dir, 'student.safetensors');
    const w = Tensor.from(ctx, new Float32Array([1.5, -0, 2 ** -140, -Infinity]), [2, 2]);
    await saveSafetensorsFile(path, { w }, { epoch: '1' });
    const back = Tensor.empty(ctx, [2, 2]);
    // −Infinity is refused by default (non-finite weights), and kept bit for bit on request.
    await expect(loadSafetensorsFile(path, new Map([['w', back]]))).rejects.toThrow(`${path}: cannot load 1 parameter(s):\n  'w': holds -Infinity at index 3; weights must be finite`);
    await loadSafetensorsFile(path, new Map([['w', back]]), { allowNonFinite: true });
    expect(new Uint32Array((await back.read()).buffer)).toEqual(new Uint32Array(new Float32Array([1.5, -0, 2 ** -140, -Infinity]).buffer));
    const wrong = Tensor.empty(ctx, [4]);
    await expect(loadSafetensorsFile(path, { w: wrong })).rejects.toThrow(`${path}: cannot load 1 parameter(s):\n  'w': shape mismatch, expected [4], file has [2, 2]`);
    await expect(loadSafetensorsFile(path, { w: wrong }, { source: 'named' })).rejects.toThrow(/^named: cannot load/);
    expect(await readdir(dir)).toEqual(['student.safetensors']);
    [w, back, wrong].forEach((t) => t.dispose());
    await rm(path);
  });
});
