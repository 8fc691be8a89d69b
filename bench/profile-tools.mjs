// profile-tools.mjs — what the kernel profiling scripts (conv-, pool-, kl-profile.mjs) share:
// command-line options, bundling src/ (the working tree, or parts of it from a git
// revision) and timing contenders interleaved round by round in one process, so that load
// changes hit them all. Wall time per call and the CPU time of this process per call are
// both kept: lavapipe's threads are ours, so CPU time is the work done, and it varies far
// less than wall time when other jobs share the cores.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export const root = new URL('..', import.meta.url).pathname;

/** The value after `--name` on the command line, or `fallback`. */
export function argument(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * Bundles kdgpu with esbuild (WGSL as text; 'webgpu' and node: left external, into
 * node_modules/.cache so that they resolve) and imports it. `stdin` replaces the entry
 * (src/index.ts); `plugins` can swap files. Never touches dist/.
 */
export async function bundleKdgpu(tag, { stdin, plugins = [] } = {}) {
  const outfile = `${root}node_modules/.cache/kdgpu-profile/${tag}-${process.pid}.mjs`;
  await build({
    ...(stdin ? { stdin: { contents: stdin, resolveDir: root, loader: 'ts' } } : { entryPoints: [`${root}src/index.ts`] }),
    bundle: true,
    loader: { '.wgsl': 'text' },
    external: ['webgpu', 'node:*'],
    format: 'esm',
    platform: 'node',
    outfile,
    logLevel: 'warning',
    plugins,
  });
  const module = await import(pathToFileURL(outfile).href);
  rmSync(outfile);
  return module;
}

/**
 * Times each contender `{ run, sync }` (run() may return tensors, disposed after each
 * round): one warm-up call each, then `rounds` rounds of `calls` calls + sync, contenders
 * alternating within a round. Returns per contender the wall and CPU milliseconds per call
 * of every round, in the order given.
 */
export async function timeInterleaved(contenders, rounds, calls = 3) {
  const stats = contenders.map(() => ({ wall: [], cpu: [] }));
  for (const { run, sync } of contenders) {
    disposeAll(run());
    await sync();
  }
  for (let r = 0; r < rounds; r++) {
    for (const [i, { run, sync }] of contenders.entries()) {
      const outputs = [];
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      for (let c = 0; c < calls; c++) outputs.push(run());
      await sync();
      const cpu = process.cpuUsage(cpu0);
      stats[i].wall.push((performance.now() - t0) / calls);
      stats[i].cpu.push((cpu.user + cpu.system) / 1000 / calls);
      disposeAll(outputs);
    }
  }
  return stats;
}

function disposeAll(value) {
  if (Array.isArray(value)) value.forEach(disposeAll);
  else value?.dispose?.();
}
