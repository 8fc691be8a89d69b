// conv-profile.mjs — times the convolution passes and a few GEMMs, eagerly, on the local
// adapter (lavapipe here), to compare kernel variants before and after a change.
// Bundles src/index.ts itself (esbuild, into node_modules/.cache so that 'webgpu' resolves),
// so it always measures the working tree and never touches dist/.
// Usage: node bench/conv-profile.mjs [--rounds N] [--only REGEX]
//   (the `teacher b256` entries are the bench's inference convolutions at batch 256)
//   Each workload: one warm-up call, then N rounds (default 5) of 3 calls + sync; prints the
//   median and the minimum wall time per call, and the median CPU time per call of this
//   process (lavapipe's threads are ours, so CPU time is the work done, and it varies far
//   less than wall time when other jobs share the cores). Compare runs made in the same
//   session.
import { argument, bundleKdgpu, median, timeInterleaved } from './profile-tools.mjs';

const rounds = Number(argument('--rounds', '5'));
const only = new RegExp(argument('--only', '.'));
const k = await bundleKdgpu('conv-profile');

const ctx = await k.init();
const random = new k.Random(1);
const tensor = (shape) => {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = random.uniform() - 0.5;
  return k.Tensor.from(ctx, data, shape);
};

async function time(name, run, flops) {
  if (!only.test(name)) return;
  const [{ wall: perCall, cpu: cpuPerCall }] = await timeInterleaved([{ run, sync: () => ctx.sync() }], rounds);
  const ms = median(perCall);
  const rate = flops ? `${(flops / ms / 1e6).toFixed(2).padStart(6)} GFLOP/s` : '';
  const cpu = median(cpuPerCall).toFixed(1).padStart(7);
  console.log(`${name.padEnd(34)} ${ms.toFixed(1).padStart(7)} ms (min ${Math.min(...perCall).toFixed(1)}, cpu ${cpu} ms)  ${rate}`);
}

const B = 64;
// The demo teacher's convolutions: conv1 on MNIST images, conv2 after a 2×2 max-pool.
const x1 = tensor([B, 1, 28, 28]);
const w1 = tensor([32, 1, 3, 3]);
const b1 = tensor([32]);
const dy1 = tensor([B, 32, 26, 26]);
const x2 = tensor([B, 32, 13, 13]);
const w2 = tensor([64, 32, 3, 3]);
const b2 = tensor([64]);
const dy2 = tensor([B, 64, 11, 11]);
// A strided, padded layer, so the general path is watched too.
const x3 = tensor([B, 32, 14, 14]);
const w3 = tensor([64, 32, 3, 3]);
const b3 = tensor([64]);
const dy3 = tensor([B, 64, 7, 7]);
const conv1Flops = 2 * B * 26 * 26 * 32 * 9;
const conv2Flops = 2 * B * 11 * 11 * 64 * 32 * 9;
const conv3Flops = 2 * B * 7 * 7 * 64 * 32 * 9;

await time('conv1 fwd', () => k.conv2d(x1, w1, b1, { relu: true }), conv1Flops);
await time('conv1 bwd filter', () => k.conv2dBackwardFilter(dy1, x1, { filterShape: w1.shape }), conv1Flops);
await time('conv2 fwd', () => k.conv2d(x2, w2, b2, { relu: true }), conv2Flops);
await time('conv2 bwd input', () => k.conv2dBackwardInput(dy2, w2, { inputShape: x2.shape }), conv2Flops);
await time('conv2 bwd filter', () => k.conv2dBackwardFilter(dy2, x2, { filterShape: w2.shape }), conv2Flops);
await time('conv2 bwd bias', () => k.conv2dBackwardBias(dy2));
await time('conv3 s2p1 fwd', () => k.conv2d(x3, w3, b3, { stride: 2, padding: 1 }), conv3Flops);
await time('conv3 s2p1 bwd input', () => k.conv2dBackwardInput(dy3, w3, { inputShape: x3.shape, stride: 2, padding: 1 }), conv3Flops);
await time('conv3 s2p1 bwd filter', () => k.conv2dBackwardFilter(dy3, x3, { filterShape: w3.shape, stride: 2, padding: 1 }), conv3Flops);

// The bench's inference workload: the teacher's two convolutions at batch 256.
{
  const T = 256;
  const tx1 = tensor([T, 1, 28, 28]);
  const tw1 = tensor([64, 1, 3, 3]);
  const tb1 = tensor([64]);
  const tx2 = tensor([T, 64, 13, 13]);
  const tw2 = tensor([128, 64, 3, 3]);
  const tb2 = tensor([128]);
  await time('teacher b256 conv1 fwd', () => k.conv2d(tx1, tw1, tb1, { relu: true }), 2 * T * 26 * 26 * 64 * 9);
  await time('teacher b256 conv2 fwd', () => k.conv2d(tx2, tw2, tb2, { relu: true }), 2 * T * 11 * 11 * 128 * 64 * 9);
  for (const t of [tx1, tw1, tb1, tx2, tw2, tb2]) t.dispose();
}

const a = tensor([B, 1600]);
const w = tensor([1600, 256]);
const g = tensor([B, 256]);
const denseFlops = 2 * B * 1600 * 256;
await time('dense 64x1600x256', () => k.matmul(a, w), denseFlops);
await time('dense dW 1600x64x256 (transA)', () => k.matmul(a, g, { transA: true }), denseFlops);
await time('dense dX 64x256x1600 (transB)', () => k.matmul(g, w, { transB: true }), denseFlops);
const A = tensor([1024, 1024]);
const Bm = tensor([1024, 1024]);
await time('gemm 1024^3', () => k.matmul(A, Bm), 2 * 1024 ** 3);
ctx.dispose();
