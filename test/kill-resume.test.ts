// Kill -9 mid-epoch loses at most a few steps: a child process training with a checkpoint
// every 4 steps SIGKILLs itself at step 11 of epoch 2; the resumed run starts at step 9 of
// epoch 2 (the step-8 checkpoint) and ends with weights bit-identical to an uninterrupted run.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../src/index.js';

const run = promisify(execFile);
let dir: string;
let bundleDir: string;
let child: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kdgpu-kill-'));
  // The bundle lives under node_modules so that it resolves the 'webgpu' package.
  mkdirSync('node_modules/.cache', { recursive: true });
  bundleDir = mkdtempSync('node_modules/.cache/kdgpu-kill-');
  child = join(bundleDir, 'child.mjs');
  await build({
    entryPoints: ['test/support/interruptible-training.ts'],
    bundle: true,
    loader: { '.wgsl': 'text' },
    external: ['webgpu', 'node:*'],
    format: 'esm',
    platform: 'node',
    target: 'es2022',
    outfile: child,
    logLevel: 'warning',
  });
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(bundleDir, { recursive: true, force: true });
});

const env = { ...process.env, XDG_RUNTIME_DIR: '/tmp' };
const trainChild = (...args: string[]) => run('node', [child, ...args], { env, timeout: 120_000 });

describe('kill -9 and resume', () => {
  it('resumes mid-epoch from the last step checkpoint with bit-identical final weights', async () => {
    const straight = join(dir, 'straight.safetensors');
    const uninterrupted = await trainChild(straight);

    const checkpoints = join(dir, 'run');
    const killed = await trainChild(join(dir, 'never.safetensors'), checkpoints, '31').catch((e: { signal?: string }) => e);
    expect((killed as { signal?: string }).signal).toBe('SIGKILL');
    const { metadata } = decodeSafetensors(readFileSync(join(checkpoints, 'checkpoint.safetensors')), 'checkpoint');
    const state = JSON.parse(metadata['kdgpu.training']!) as { epoch: number; stepInEpoch?: number; optimizerStep: number };
    expect([state.epoch, state.stepInEpoch, state.optimizerStep]).toEqual([1, 8, 28]);

    const resumed = join(dir, 'resumed.safetensors');
    const { stdout } = await trainChild(resumed, checkpoints);
    expect(stdout).toContain('first step 2:9');
    expect(readFileSync(resumed).equals(readFileSync(straight))).toBe(true);
    // Epoch 2's loss and accuracy include the 8 steps run before the kill (saved running sums).
    const history = (out: string) => /history (.*)/.exec(out)![1];
    expect(history(stdout)).toBe(history(uninterrupted.stdout));
  });
});
