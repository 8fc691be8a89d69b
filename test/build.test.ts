// `npm run build` output: the ES module, the <script> bundle that defines global `kdgpu`,
// type declarations, WGSL embedded (no file reads), and no Node-only code in the bundles.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import vm from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';

describe('npm run build', () => {
  beforeAll(() => {
    execFileSync('node', ['scripts/build.mjs'], { stdio: 'pipe' });
  }, 120_000);

  it('writes the ES module, the IIFE bundle and the .d.ts files', () => {
    for (const f of ['dist/kdgpu.js', 'dist/kdgpu.iife.js', 'dist/types/index.d.ts', 'dist/types/graph/plan.d.ts']) {
      expect(existsSync(f), f).toBe(true);
    }
  });

  it('the IIFE defines globalThis.kdgpu when evaluated in a bare global scope', () => {
    // Only what every browser and worker has: the ONNX decoder (protobufjs) needs TextDecoder
    // and TextEncoder when the bundle loads.
    const sandbox: Record<string, unknown> = { TextDecoder, TextEncoder };
    sandbox.globalThis = sandbox;
    vm.createContext(sandbox);
    vm.runInContext(readFileSync('dist/kdgpu.iife.js', 'utf8'), sandbox);
    const api = sandbox.kdgpu as Record<string, unknown>;
    expect(typeof api.init).toBe('function');
    expect(typeof api.compile).toBe('function');
    expect(typeof api.softmaxCrossEntropy).toBe('function');
  });

  it('embeds the WGSL and keeps Dawn and node: modules out of the bundles', () => {
    for (const f of ['dist/kdgpu.js', 'dist/kdgpu.iife.js']) {
      const code = readFileSync(f, 'utf8');
      expect(code).toContain('fn softmax_cross_entropy(');
      expect(code).not.toMatch(/from\s*["']webgpu["']|require\(["']webgpu["']\)|from\s*["']node:/);
      expect(code).not.toContain('dawn.node');
    }
  });
});
