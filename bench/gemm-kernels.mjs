// gemm-kernels.mjs — times matmul / linear under both GEMM kernels (GemmTuning.kernel:
// 'registers', 'workgroup-tiles'), interleaved in one process, on the local adapter: the
// 1024³ product and the student CNN's dense layer at batch 64 (forward with bias + ReLU,
// dX = dY·Wᵀ, dW = Xᵀ·dY), the shapes the bench's gemm_* entries run. Everything else in
// the tuning stays at the defaults, so only the kernel differs.
// Bundles src/ itself (the working tree; never dist/).
// Usage: node bench/gemm-kernels.mjs [--rounds N] [--only REGEX] [--json FILE]
//   Per shape and kernel: the first call with its sync (≈ pipeline compile + one run), then
//   N rounds (default 5) of `calls` calls + sync, kernels alternating, where `calls` (3 to
//   1000, the same for both kernels) makes a round of the faster kernel last ≥ 20 ms, so
//   that a fast GPU is not timing the sync; prints the median and minimum wall ms per call,
//   the median CPU ms per call of this process (lavapipe's threads are ours) and
//   GFLOP/s = 2·M·N·K / median wall time.
import { writeFileSync } from 'node:fs';
import { argument, bundleKdgpu, median, timeInterleaved } from './profile-tools.mjs';

const rounds = Number(argument('--rounds', '5'));
const only = new RegExp(argument('--only', '.'));
const jsonFile = argument('--json', undefined);
const k = await bundleKdgpu('gemm-kernels');

const ctx = await k.init();
const random = new k.Random(1);
const tensor = (shape) => {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = random.uniform() - 0.5;
  return k.Tensor.from(ctx, data, shape);
};
const kernels = k.GEMM_KERNELS;
const info = ctx.adapterInfo;
console.log(`adapter: ${info.description || info.device || info.vendor} (${info.architecture || 'n/a'}); ${rounds} rounds`);
const results = [];

// Wall milliseconds of one call + sync under `kernel`.
async function timeOnce(kernel, run) {
  ctx.profile.gemmTuning = { ...k.DEFAULT_GEMM_TUNING, kernel };
  const t0 = performance.now();
  run().dispose();
  await ctx.sync();
  return performance.now() - t0;
}

async function time(name, flops, run) {
  if (!only.test(name)) return;
  const first = {};
  for (const kernel of kernels) first[kernel] = await timeOnce(kernel, run);
  let fastest = Infinity;
  for (const kernel of kernels) fastest = Math.min(fastest, await timeOnce(kernel, run));
  const calls = Math.min(1000, Math.max(3, Math.ceil(20 / Math.max(fastest, 1e-3))));
  const stats = await timeInterleaved(
    kernels.map((kernel) => ({
      run: () => {
        ctx.profile.gemmTuning = { ...k.DEFAULT_GEMM_TUNING, kernel };
        return run();
      },
      sync: () => ctx.sync(),
    })),
    rounds,
    calls,
  );
  const row = { name, flops, calls, kernels: {} };
  for (const [i, kernel] of kernels.entries()) {
    const ms = median(stats[i].wall);
    const entry = { firstCallMs: first[kernel], ms, minMs: Math.min(...stats[i].wall), cpuMs: median(stats[i].cpu), gflops: flops / ms / 1e6 };
    row.kernels[kernel] = entry;
    console.log(
      `${name.padEnd(36)} ${kernel.padEnd(16)} ${ms.toFixed(1).padStart(8)} ms (min ${entry.minMs.toFixed(1)}, cpu ${entry.cpuMs.toFixed(1)})` +
        `  ${entry.gflops.toFixed(2).padStart(7)} GFLOP/s  first call ${first[kernel].toFixed(0)} ms`,
    );
  }
  const [a, b] = kernels.map((kernel) => row.kernels[kernel].ms);
  console.log(`${''.padEnd(36)} ${kernels[1]} / ${kernels[0]} time: ${(b / a).toFixed(2)}× (${calls} calls per round)`);
  results.push(row);
}

const B = 64;
const x = tensor([B, 5408]);
const w = tensor([5408, 64]);
const bias = tensor([64]);
const dy = tensor([B, 64]);
const denseFlops = 2 * B * 5408 * 64;
await time('dense1 fwd 64x5408x64 (linear+relu)', denseFlops, () => k.linear(x, w, bias, { relu: true }));
await time('dense1 dX 64x64x5408 (transB)', denseFlops, () => k.matmul(dy, w, { transB: true }));
await time('dense1 dW 5408x64x64 (transA)', denseFlops, () => k.matmul(x, dy, { transA: true }));
for (const t of [x, w, bias, dy]) t.dispose();
const A = tensor([1024, 1024]);
const Bm = tensor([1024, 1024]);
await time('gemm 1024^3', 2 * 1024 ** 3, () => k.matmul(A, Bm));
A.dispose();
Bm.dispose();
if (jsonFile) {
  writeFileSync(jsonFile, `${JSON.stringify({ adapter: info, rounds, results }, null, 2)}\n`);
  console.log(`wrote ${jsonFile}`);
}
ctx.dispose();
