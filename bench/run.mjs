// `npm run bench`: bundles bench/main.ts with kdgpu's current sources (WGSL as text; Dawn and
// TF.js stay external) into node_modules/.cache, then runs it with --expose-gc so the memory
// check can measure the heap after a collection. Arguments pass through.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
// One bundle per process: several benches may run from one checkout at once.
const outfile = join(root, 'node_modules', '.cache', 'kdgpu-bench', `main-${process.pid}.mjs`);
await build({
  entryPoints: [join(root, 'bench', 'main.ts')],
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'es2022',
  loader: { '.wgsl': 'text' },
  external: ['webgpu', '@tensorflow/*'],
  outfile,
  sourcemap: 'inline',
  logLevel: 'warning',
});
const result = spawnSync(process.execPath, ['--expose-gc', '--enable-source-maps', outfile, ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: process.cwd(),
  env: { XDG_RUNTIME_DIR: tmpdir(), ...process.env },
});
rmSync(outfile, { force: true });
process.exitCode = result.status ?? 1;
