// Trains the seed CNN (Conv 32 3×3 → ReLU → MaxPool 2 → Flatten → Dense 64 → ReLU → Dense 10)
// on full MNIST through a compiled plan and reports test accuracy.
// Run: npm run build && node examples/mnist-cnn.mjs [--epochs 6] [--batch 64] [--seed 1] [--shift 0]
// --shift N trains on images jittered by up to ±N pixels.
import * as kdgpu from '../dist/kdgpu.js';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const epochs = option('epochs', 6);
const batchSize = option('batch', 64);
const seed = option('seed', 1);
const shift = option('shift', 0);

const ctx = await kdgpu.init();
const mnist = await kdgpu.loadMnistFromDirectory();
const model = kdgpu
  .sequential([new kdgpu.Conv2d(32, { kernel: 3 }), new kdgpu.ReLU(), new kdgpu.MaxPool2d(2), new kdgpu.Flatten(), new kdgpu.Dense(64), new kdgpu.ReLU(), new kdgpu.Dense(10)], { name: 'seed-cnn' })
  .build(ctx, [1, 28, 28], { seed });
console.log(model.summary());
const steps = Math.floor(mnist.train.count / batchSize);
const result = await kdgpu.train(model, mnist.train, {
  epochs,
  batchSize,
  seed,
  optimizer: new kdgpu.Adam({ learningRate: (t) => 1e-3 * 0.7 ** Math.floor((t - 1) / steps) }),
  augment: shift > 0 ? { maxShift: shift } : undefined,
  validation: mnist.test,
  onStep: ({ epoch, step }) => step % 100 === 0 && process.stdout.write(`\repoch ${epoch} step ${step}/${steps}`),
  onEpoch: (s) =>
    console.log(`\repoch ${s.epoch}: train loss ${s.loss.toFixed(4)}, train acc ${(s.accuracy * 100).toFixed(2)}%, test acc ${(s.validation.accuracy * 100).toFixed(2)}% (${s.seconds.toFixed(1)} s)`),
});
const final = await kdgpu.evaluate(model, mnist.test);
console.log(`final test accuracy: ${(final.accuracy * 100).toFixed(2)}% (${final.errors} errors of ${final.count}), ${epochs} epochs, shift ±${shift}, ${result.seconds.toFixed(0)} s`);
model.dispose();
ctx.dispose();
