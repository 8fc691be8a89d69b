// Output folders are made level by level, so a path that cannot be created fails at once
// with its reason (Node's recursive mkdir spins forever on /proc paths), and an unwritable
// folder is found before any work starts.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureWritableDirectory, ensureWritableFileLocation } from '../../src/io/directories.js';

const scratch = mkdtempSync(join(tmpdir(), 'kdgpu-dirs-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('ensureWritableDirectory', () => {
  it('creates missing levels and accepts existing folders', async () => {
    const deep = join(scratch, 'a', 'b', 'c');
    await ensureWritableDirectory(deep);
    expect(statSync(deep).isDirectory()).toBe(true);
    await ensureWritableDirectory(deep);
    await ensureWritableFileLocation(join(scratch, 'x', 'model.onnx'));
    expect(statSync(join(scratch, 'x')).isDirectory()).toBe(true);
  });

  it('fails at once, naming the level and the reason, where recursive mkdir would hang', async () => {
    const started = Date.now();
    await expect(ensureWritableDirectory('/proc/kdgpu-test/out')).rejects.toThrow('cannot create /proc/kdgpu-test/out (the output folder): mkdir /proc/kdgpu-test failed (ENOENT)');
    const file = join(scratch, 'plain-file');
    writeFileSync(file, '');
    await expect(ensureWritableDirectory(join(file, 'sub'), 'checkpoint folder')).rejects.toThrow(`(the checkpoint folder): ${file} exists and is not a folder`);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
