// f16-profile.mjs — f16 against f32 on the local adapter (issue 14 item 4): the GEMM with f16
// operands (casts done beforehand) against the f32 GEMM, the f32→f16 cast alone, a 3×3
// convolution with f16 operands against f32, and one
// compiled training step of an MLP with precision 'f16' (casts, f16 GEMMs, loss-scale checks
// and the scaled Adam update) against the same step in f32. Contenders are interleaved
// round by round (profile-tools.mjs), so load changes hit both.
// Bundles src/ from the working tree (never dist/). Needs the adapter's 'shader-f16'.
// Usage: node bench/f16-profile.mjs [--rounds N] [--only REGEX] [--profile]
//   --profile: also the GPU time of each dispatch of both training steps (timestamp queries,
//   Plan.profile, mean of 5 runs), summed by kernel.
import { argument, bundleKdgpu, median, timeInterleaved } from './profile-tools.mjs';

const rounds = Number(argument('--rounds', '5'));
const only = new RegExp(argument('--only', '.'));
const k = await bundleKdgpu('f16-profile');
const ctx = await k.init();
if (!ctx.hasF16) throw new Error('this adapter has no shader-f16; nothing to compare');
const random = new k.Random(1);
const tensor = (shape) => {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = random.uniform() - 0.5;
  return k.Tensor.from(ctx, data, shape);
};

async function compare(name, f32, f16, flops) {
  if (!only.test(name)) return;
  const sync = () => ctx.sync();
  const [a, b] = await timeInterleaved([{ run: f32, sync }, { run: f16, sync }], rounds);
  const line = (label, s) => {
    const ms = median(s.wall);
    const rate = flops ? `${(flops / ms / 1e6).toFixed(2).padStart(6)} GFLOP/s` : '';
    return `${`${name} ${label}`.padEnd(30)} ${ms.toFixed(1).padStart(7)} ms (min ${Math.min(...s.wall).toFixed(1)}, cpu ${median(s.cpu).toFixed(1).padStart(7)} ms)  ${rate}`;
  };
  console.log(line('f32', a));
  console.log(line('f16', b));
  console.log(`${name.padEnd(30)} f16/f32 wall ${(median(b.wall) / median(a.wall)).toFixed(2)}x, cpu ${(median(b.cpu) / median(a.cpu)).toFixed(2)}x`);
}

for (const [M, K, N] of [[1024, 1024, 1024], [64, 784, 256]]) {
  const A = tensor([M, K]);
  const B = tensor([K, N]);
  const [A16, B16] = [k.castF16(A), k.castF16(B)];
  await compare(`gemm ${M}x${K}x${N}`, () => k.matmul(A, B), () => k.matmul(A16, B16), 2 * M * N * K);
  if (M === 1024) await compare('cast 1024x1024 (copy vs f32→f16)', () => k.reshape(A, [K, M]), () => k.castF16(A));
}

// The demo teacher's second convolution (batch 64): f32 takes the direct 3×3 kernel (subgroups),
// f16 the implicit GEMM.
{
  const x = tensor([64, 32, 13, 13]);
  const w = tensor([64, 32, 3, 3]);
  const b = tensor([64]);
  const [x16, w16] = [k.castF16(x), k.castF16(w)];
  await compare('conv 64x32x13x13 * 64x32x3x3', () => k.conv2d(x, w, b, { relu: true }), () => k.conv2d(x16, w16, b, { relu: true }), 2 * 64 * 11 * 11 * 64 * 32 * 9);
}

// One training step of a 784-256-10 MLP, batch 64, Adam: forward, softmax cross-entropy,
// backward and update as one compiled plan (as fit runs it; no readback in the step).
{
  const batch = 64;
  const images = new Float32Array(batch * 784).map(() => random.uniform());
  const labels = Uint32Array.from({ length: batch }, (_, i) => i % 10);
  const stepPlan = (precision) => {
    const model = k.sequential([new k.Flatten(), new k.Dense(256), new k.ReLU(), new k.Dense(10)]).build(ctx, [1, 28, 28], { seed: 1 });
    const graph = new k.Graph(ctx);
    const x = graph.input('x', [batch, 1, 28, 28]);
    const y = graph.input('y', [batch], 'u32');
    const loss = k.softmaxCrossEntropy(model.call(x, { training: true, precision }), y);
    const scaler = precision === 'f16' ? new k.LossScaler(ctx) : undefined;
    new k.Adam({ learningRate: 1e-3 }).minimize(loss, [...model.parameters().values()], { lossScaler: scaler });
    return k.compile(graph, { fetch: [loss] });
  };
  const [p32, p16] = [stepPlan('f32'), stepPlan('f16')];
  console.log(`train step dispatches: f32 ${p32.dispatchCount}, f16 ${p16.dispatchCount}`);
  await compare('train step mlp 784-256-10 b64', () => p32.run({ x: images, y: labels }), () => p16.run({ x: images, y: labels }));
  if (process.argv.includes('--profile') && k.canProfile(ctx)) {
    for (const [precision, plan] of [['f32', p32], ['f16', p16]]) {
      const summary = k.profileSummary(await plan.profile({ x: images, y: labels }, { runs: 5 }));
      const total = summary.reduce((a, e) => a + e.milliseconds, 0);
      console.log(`train step ${precision}: ${plan.dispatchCount} dispatches, ${total.toFixed(2)} ms of GPU time`);
      for (const e of summary) console.log(`  ${(e.share * 100).toFixed(1).padStart(5)} % ${e.milliseconds.toFixed(3).padStart(8)} ms ${String(e.count).padStart(3)}×  ${e.label}`);
    }
  }
}
ctx.dispose();
