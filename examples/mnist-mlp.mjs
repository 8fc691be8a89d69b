// Trains a 784-256-10 MLP on full MNIST through a compiled plan and reports test accuracy.
// Run: npm run build && node examples/mnist-mlp.mjs [--epochs 5] [--batch 128] [--seed 1]
import * as kdgpu from '../dist/kdgpu.js';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const epochs = option('epochs', 5);
const batch = option('batch', 128);
const seed = option('seed', 1);
const hidden = 256;

const started = performance.now();
const ctx = await kdgpu.init();
const mnist = await kdgpu.loadMnistFromDirectory();
const random = new kdgpu.Random(seed);

const w1 = kdgpu.Tensor.from(ctx, kdgpu.heNormal(random, 784, hidden), [784, hidden]);
const b1 = kdgpu.Tensor.from(ctx, new Float32Array(hidden), [hidden]);
const w2 = kdgpu.Tensor.from(ctx, kdgpu.glorotUniform(random, hidden, 10), [hidden, 10]);
const b2 = kdgpu.Tensor.from(ctx, new Float32Array(10), [10]);
const model = (x) => kdgpu.linear(kdgpu.linear(x, w1, b1, { relu: true }), w2, b2);

// Training graph: forward, loss, backward and Adam updates, compiled once.
const train = new kdgpu.Graph(ctx);
const x = train.input('x', [batch, 784]);
const y = train.input('y', [batch], 'u32');
const loss = kdgpu.softmaxCrossEntropy(model(x), y);
const optimizer = new kdgpu.Adam({ learningRate: (t) => 1e-3 * 0.5 ** Math.floor(t / (2 * 469)) });
optimizer.minimize(loss, [w1, b1, w2, b2]);
const trainPlan = kdgpu.compile(train, { fetch: [loss] });

// Evaluation graph shares the same weight tensors.
const evalBatch = 500;
const evaluate = new kdgpu.Graph(ctx);
const ex = evaluate.input('x', [evalBatch, 784]);
const ey = evaluate.input('y', [evalBatch], 'u32');
const correct = kdgpu.sum(kdgpu.argmaxCorrect(model(ex), ey)[1]);
const evalPlan = kdgpu.compile(evaluate, { fetch: [correct] });

async function testAccuracy() {
  let hits = 0;
  for (let start = 0; start + evalBatch <= mnist.test.count; start += evalBatch) {
    evalPlan.run({
      x: mnist.test.images.subarray(start * 784, (start + evalBatch) * 784),
      y: mnist.test.labels.subarray(start, start + evalBatch),
    });
    hits += (await evalPlan.read(correct))[0];
  }
  return hits / mnist.test.count;
}

const order = Uint32Array.from({ length: mnist.train.count }, (_, i) => i);
const xs = new Float32Array(batch * 784);
const ys = new Uint32Array(batch);
const steps = Math.floor(mnist.train.count / batch);
for (let epoch = 1; epoch <= epochs; epoch++) {
  random.shuffle(order);
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) {
    for (let i = 0; i < batch; i++) {
      const j = order[s * batch + i];
      xs.set(mnist.train.images.subarray(j * 784, (j + 1) * 784), i * 784);
      ys[i] = mnist.train.labels[j];
    }
    trainPlan.run({ x: xs, y: ys });
    if (s % 100 === 0) process.stdout.write(`\repoch ${epoch} step ${s}/${steps}`);
  }
  const lastLoss = (await trainPlan.read(loss))[0];
  const acc = await testAccuracy();
  const seconds = (performance.now() - t0) / 1000;
  console.log(`\repoch ${epoch}: last batch loss ${lastLoss.toFixed(4)}, test accuracy ${(acc * 100).toFixed(2)}% (${seconds.toFixed(1)} s)`);
}
const final = await testAccuracy();
console.log(`final test accuracy: ${(final * 100).toFixed(2)}% on ${mnist.test.count} images, ${epochs} epochs, ${((performance.now() - started) / 1000).toFixed(0)} s total`);
ctx.dispose();
