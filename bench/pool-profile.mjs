// pool-profile.mjs — times max-pool forward and backward on the demo models' maps: the
// working tree's kernels (shaders/max_pool.wgsl through src/ops/pooling.ts) against the
// max_pool.wgsl of git revision --base (default a4bdd0e, the last one before the backward
// rewrite: every size a uniform, backward one gather per input), interleaved in one process
// so that both see the same machine load. Checks first that both give the same dx.
// Bundles src/ with esbuild (as bench/conv-profile.mjs does); runs eagerly on the local
// adapter (lavapipe here).
// Usage: node bench/pool-profile.mjs [--rounds N] [--base REV] [--only REGEX]
//   Each workload and variant: one warm-up call, then N rounds (default 7) of 3 calls + sync,
//   old and new alternating round by round. Prints the median wall time per call (and the
//   minimum), the median CPU time of this process per call, and GB/s = bytes of the largest
//   tensor (x or dx) / median time, as bench/ reports its op_* entries.
import { execFileSync } from 'node:child_process';
import { argument, bundleKdgpu, median, root, timeInterleaved } from './profile-tools.mjs';

const rounds = Number(argument('--rounds', '7'));
const base = argument('--base', 'a4bdd0e');
const only = new RegExp(argument('--only', '.'));
const k = await bundleKdgpu('pool-profile', {
  stdin: "export * from './src/index.ts'; export { maxPool2dWithArgmax, maxPool2dBackward } from './src/ops/pooling.ts';",
});

const oldShader = k.shader('max_pool_old', execFileSync('git', ['show', `${base}:shaders/max_pool.wgsl`], { cwd: root, encoding: 'utf8' }));
const oldParams = (x, size, stride) => {
  const [n, c, h, w] = x;
  return { planes: n * c, in_h: h, in_w: w, out_h: Math.floor((h - size) / stride) + 1, out_w: Math.floor((w - size) / stride) + 1, size, stride };
};
const pooled = ({ out_h, out_w }, x) => [x[0], x[1], out_h, out_w];
const groups = (count) => {
  const g = Math.ceil(count / 256);
  if (g <= 65535) return [g, 1];
  const y = Math.ceil(g / 65535);
  return [Math.ceil(g / y), y];
};
const oldForward = {
  name: 'max_pool2d_old',
  outputs([x], a) {
    const shape = pooled(oldParams(x.shape, a.size, a.stride), x.shape);
    return [{ shape, dtype: 'f32' }, { shape, dtype: 'u32' }];
  },
  kernels: ({ inputs: [x], outputs: [y, argmax] }, a) => [
    { shader: oldShader, entry: 'max_pool_forward', params: oldParams(x.shape, a.size, a.stride), buffers: { x, out: y, argmax }, workgroups: groups(k.sizeOf(y.shape)) },
  ],
};
const oldBackward = {
  name: 'max_pool2d_backward_old',
  outputs: (_inputs, a) => [{ shape: a.inputShape, dtype: 'f32' }],
  kernels: ({ inputs: [dy, argmax], outputs: [dx] }, a) => [
    { shader: oldShader, entry: 'max_pool_backward', params: oldParams(dx.shape, a.size, a.stride), buffers: { dy, recorded_argmax: argmax, dx }, workgroups: groups(k.sizeOf(dx.shape)) },
  ],
};

const ctx = await k.init();
const random = new k.Random(1);
const tensor = (shape) => {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = random.uniform() - 0.5;
  return k.Tensor.from(ctx, data, shape);
};

async function compare(name, bytes, variants) {
  if (!only.test(name)) return;
  const stats = await timeInterleaved(variants.map(([, run]) => ({ run, sync: () => ctx.sync() })), rounds);
  const ms = stats.map((s) => median(s.wall));
  for (const [i, [label]] of variants.entries()) {
    const { wall, cpu } = stats[i];
    const speedup = i > 0 ? `  ${(ms[0] / ms[i]).toFixed(1)}× old` : '';
    console.log(
      `${`${name} ${label}`.padEnd(44)} ${ms[i].toFixed(2).padStart(8)} ms (min ${Math.min(...wall).toFixed(2)}, cpu ${median(cpu).toFixed(1)} ms) ${(bytes / ms[i] / 1e6).toFixed(3).padStart(7)} GB/s${speedup}`,
    );
  }
}

// Maps pooled in the demo models at batch 64: the student's conv1 output, the teacher's
// conv1 and conv2 outputs (11 × 11 drops its last row and column).
const B = 64;
for (const [label, shape, size, stride] of [
  ['student [64,32,26,26] 2/2', [B, 32, 26, 26], 2, 2],
  ['teacher [64,64,26,26] 2/2', [B, 64, 26, 26], 2, 2],
  ['teacher [64,128,11,11] 2/2', [B, 128, 11, 11], 2, 2],
  ['overlap [64,32,26,26] 3/2', [B, 32, 26, 26], 3, 2],
]) {
  const x = tensor(shape);
  const bytes = 4 * shape.reduce((a, b) => a * b, 1);
  const attrs = { size, stride, inputShape: shape };
  const [yNew, argmaxNew] = k.maxPool2dWithArgmax(x, { size, stride });
  const [, argmaxOld] = k.apply(oldForward, [x], attrs);
  const dy = tensor(yNew.shape);
  // Same answer from both, before timing them.
  const dxNew = await k.maxPool2dBackward(dy, argmaxNew, attrs).read();
  const dxOld = await k.apply(oldBackward, [dy, argmaxOld], attrs)[0].read();
  if (dxNew.some((v, i) => !Object.is(v, dxOld[i]))) throw new Error(`${label}: new and old dx differ`);
  await compare(`${label} fwd`, bytes, [
    ['old', () => k.apply(oldForward, [x], attrs)[0]],
    ['new', () => k.maxPool2dWithArgmax(x, { size, stride })[0]],
  ]);
  await compare(`${label} bwd`, bytes, [
    ['old', () => k.apply(oldBackward, [dy, argmaxOld], attrs)[0]],
    ['new', () => k.maxPool2dBackward(dy, argmaxNew, attrs)],
  ]);
}
ctx.dispose();
