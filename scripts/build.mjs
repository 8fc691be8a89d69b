// Builds dist/kdgpu.js (ES module), dist/kdgpu.iife.js (global `kdgpu`), dist/cli.js (the
// `kdgpu` command) and dist/types.
// WGSL files are embedded as strings; Dawn ('webgpu') and node: modules stay external and
// are only imported dynamically on the Node path, so the browser bundles never load them.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
const common = {
  entryPoints: ['src/index.ts'],
  bundle: true,
  loader: { '.wgsl': 'text' },
  external: ['webgpu', 'node:*'],
  target: 'es2022',
  sourcemap: true,
  logLevel: 'warning',
};
await build({ ...common, format: 'esm', outfile: 'dist/kdgpu.js', platform: 'neutral' });
await build({
  ...common,
  format: 'iife',
  globalName: 'kdgpu',
  outfile: 'dist/kdgpu.iife.js',
  platform: 'browser',
  logOverride: { 'empty-import-meta': 'silent' },
});
// The `kdgpu` command: Node only, so it may import node: modules and Dawn.
await build({ ...common, entryPoints: ['src/cli/main.ts'], format: 'esm', outfile: 'dist/cli.js', platform: 'node' });
execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
for (const f of ['dist/kdgpu.js', 'dist/kdgpu.iife.js']) {
  console.log(`${f}: ${(statSync(f).size / 1024).toFixed(1)} KiB`);
}
