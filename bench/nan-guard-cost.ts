// What fit()'s NaN guard costs: the same short training runs (an MNIST-sized MLP, and the
// bench's student CNN) on random images with and without it, alternating, in steps per
// second. Run with:
//   npx esbuild bench/nan-guard-cost.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
//     --external:webgpu --outfile=node_modules/.cache/nan-guard-cost.mjs && node node_modules/.cache/nan-guard-cost.mjs
import { Adam, Dense, Flatten, type GpuContext, init, ReLU, type Sequential, sequential, train } from '../src/index.js';
import { kdgpuStudent } from './models.js';

const BATCH = 64;
const ROUNDS = 3;
const MODELS: { name: string; count: number; build: (ctx: GpuContext) => Sequential }[] = [
  { name: 'MLP 784-128-10', count: 2048, build: (ctx) => sequential([new Flatten(), new Dense(128), new ReLU(), new Dense(10)]).build(ctx, [1, 28, 28], { seed: 1 }) },
  { name: 'student CNN (conv 32, dense 64)', count: 512, build: (ctx) => kdgpuStudent(ctx, 1) },
];

let seed = 1;
const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const ctx = await init();
for (const { name, count, build } of MODELS) {
  const data = {
    images: Float32Array.from({ length: count * 784 }, random),
    labels: Uint32Array.from({ length: count }, () => Math.floor(random() * 10)),
    count,
    shape: [1, 28, 28] as [number, number, number],
  };
  const rates: Record<'on' | 'off', number[]> = { on: [], off: [] };
  for (let round = 0; round <= ROUNDS; round++) {
    for (const guard of ['on', 'off'] as const) {
      const model = build(ctx);
      const result = await train(model, data, { epochs: 1, batchSize: BATCH, optimizer: new Adam(), nanGuard: guard === 'on' });
      // Round 0 warms the pipeline cache and is not counted.
      if (round > 0) rates[guard].push(count / BATCH / result.seconds);
      model.dispose();
    }
  }
  const on = median(rates.on);
  const off = median(rates.off);
  console.log(`${name}, batch ${BATCH}, ${count / BATCH} steps per run, median of ${ROUNDS} runs: nanGuard on ${on.toFixed(2)} steps/s, off ${off.toFixed(2)} steps/s (${(100 * (on / off - 1)).toFixed(0)} %)`);
}
ctx.dispose();
