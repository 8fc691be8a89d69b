// Numerical checks that run inside a browser page against whichever kdgpu build the page
// loaded (the <script> bundle or the ES module), each compared with a float64 reference
// computed here in plain JavaScript. `seededTraining` also runs in Node (against src/), so
// the browser and Node runs of one seeded training share every line of code.
// Plain JavaScript (no TypeScript): the browser loads this file as it is.

/** Uniform floats in [-scale, scale) from a seeded mulberry32 stream. */
export function randomArray(length, seed, scale = 1) {
  let state = seed >>> 0;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    let t = (state = (state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

/**
 * Largest error / allowed over all elements (≤ 1 passes), where allowed(i) is
 * `relative · scale(i) + absolute`, and how many elements are NaN.
 */
function compare(actual, expected, scale, { relative, absolute }) {
  let worst = 0;
  let worstIndex = -1;
  let nan = 0;
  for (let i = 0; i < expected.length; i++) {
    if (Number.isNaN(actual[i])) {
      nan++;
      continue;
    }
    const ratio = Math.abs(actual[i] - expected[i]) / (relative * scale[i] + absolute);
    if (ratio > worst) [worst, worstIndex] = [ratio, i];
  }
  return { worst, nan, count: expected.length, at: worstIndex, actual: actual[worstIndex], expected: expected[worstIndex] };
}

/**
 * C = A·B for A [m, k] and B [k, n] through `kdgpu.matmul`. Tolerance per element:
 * |err| ≤ 1e-5 · Σ_k |a_ik·b_kj| + 1e-6 (f32 accumulation error grows with the absolute
 * sum, not with |c_ij|, which can cancel to near zero).
 */
export async function gemmCheck(kdgpu, ctx, { m, k, n, seed = 1 }) {
  const a = randomArray(m * k, seed);
  const b = randomArray(k * n, seed + 1);
  const expected = new Float64Array(m * n);
  const absSum = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let abs = 0;
      for (let p = 0; p < k; p++) {
        s += a[i * k + p] * b[p * n + j];
        abs += Math.abs(a[i * k + p] * b[p * n + j]);
      }
      expected[i * n + j] = s;
      absSum[i * n + j] = abs;
    }
  }
  const ta = kdgpu.Tensor.from(ctx, a, [m, k]);
  const tb = kdgpu.Tensor.from(ctx, b, [k, n]);
  const tc = kdgpu.matmul(ta, tb);
  const actual = await tc.read();
  for (const t of [ta, tb, tc]) t.dispose();
  return { shape: tc.shape, ...compare(actual, expected, absSum, { relative: 1e-5, absolute: 1e-6 }) };
}

function logSoftmax(z) {
  let max = -Infinity;
  for (const v of z) max = Math.max(max, v);
  let s = 0;
  for (const v of z) s += Math.exp(v - max);
  const lse = max + Math.log(s);
  return z.map((v) => v - lse);
}

/** Float64 per-row loss and d(loss row)/d(student row), from Hinton's definition. */
function temperatureKlReference(student, teacher, labels, rows, classes, T, hardWeight) {
  const loss = new Float64Array(rows);
  const grad = new Float64Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    const s = Float64Array.from(student.subarray(r * classes, (r + 1) * classes));
    const t = Float64Array.from(teacher.subarray(r * classes, (r + 1) * classes));
    const logPt = logSoftmax(t.map((v) => v / T));
    const logPs = logSoftmax(s.map((v) => v / T));
    const logQ = logSoftmax(s);
    let kl = 0;
    for (let c = 0; c < classes; c++) kl += Math.exp(logPt[c]) * (logPt[c] - logPs[c]);
    loss[r] = (1 - hardWeight) * T * T * kl - hardWeight * logQ[labels[r]];
    for (let c = 0; c < classes; c++) {
      const soft = T * (Math.exp(logPs[c]) - Math.exp(logPt[c]));
      const hard = Math.exp(logQ[c]) - (c === labels[r] ? 1 : 0);
      grad[r * classes + c] = (1 - hardWeight) * soft + hardWeight * hard;
    }
  }
  return { loss, grad };
}

/**
 * The fused distillation loss `kdgpu.temperatureKl` (mean over rows) eagerly, and its
 * gradient w.r.t. the student logits through a compiled graph. Logits are uniform in ±4.
 * Tolerances: loss |err| ≤ 1e-5·|loss| + 1e-6; gradient, per element,
 * |err| ≤ 1e-5·max|grad of its row| + 1e-7 (entries near zero have no useful relative error).
 */
export async function temperatureKlCheck(kdgpu, ctx, { rows, classes, temperature, hardWeight, seed = 1 }) {
  const student = randomArray(rows * classes, seed, 4);
  const teacher = randomArray(rows * classes, seed + 1, 4);
  const labels = Uint32Array.from(randomArray(rows, seed + 2), (u) => Math.floor((u + 1) / 2 * classes) % classes);
  const ref = temperatureKlReference(student, teacher, labels, rows, classes, temperature, hardWeight);
  const refMean = ref.loss.reduce((s, v) => s + v, 0) / rows;

  const s = kdgpu.Tensor.from(ctx, student, [rows, classes]);
  const t = kdgpu.Tensor.from(ctx, teacher, [rows, classes]);
  const y = kdgpu.Tensor.from(ctx, labels, [rows], 'u32');
  const eager = kdgpu.temperatureKl(s, t, { temperature, hardWeight, labels: y });
  const [loss] = await eager.read();

  const graph = new kdgpu.Graph(ctx);
  const input = graph.input('student', [rows, classes]);
  const mean = kdgpu.temperatureKl(input, graph.bind(t), { temperature, hardWeight, labels: graph.bind(y) });
  const [dStudent] = kdgpu.gradients(mean, [input]);
  const plan = kdgpu.compile(graph, { fetch: [dStudent] });
  plan.run({ student });
  const grad = await plan.read(dStudent);
  plan.dispose();
  graph.dispose();
  for (const x of [s, t, y, eager]) x.dispose();

  // d(mean)/d(student) = per-row gradient / rows.
  const expectedGrad = ref.grad.map((g) => g / rows);
  const rowScale = new Float64Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    let max = 0;
    for (let c = 0; c < classes; c++) max = Math.max(max, Math.abs(expectedGrad[r * classes + c]));
    rowScale.fill(max, r * classes, (r + 1) * classes);
  }
  return {
    loss: compare([loss], [refMean], [Math.abs(refMean)], { relative: 1e-5, absolute: 1e-6 }),
    grad: compare(grad, expectedGrad, rowScale, { relative: 1e-5, absolute: 1e-7 }),
  };
}

/**
 * One seeded epoch of the seed CNN (Conv 32 3×3 → ReLU → MaxPool 2 → Flatten → Dense 64 →
 * ReLU → Dense 10, Adam 1e-3) on the first `images` normalized training images, batch 32,
 * no dropout or augmentation: the same numbers on any correct WebGPU implementation, up
 * to f32 rounding. Returns the epoch's mean loss and accuracy.
 */
export async function seededTraining(kdgpu, ctx, mnist, { images, seed = 1 }) {
  const data = kdgpu.normalize(kdgpu.subset(mnist.train, 0, images), kdgpu.MNIST_NORMALIZATION);
  const model = kdgpu
    .sequential([new kdgpu.Conv2d(32, { kernel: 3 }), new kdgpu.ReLU(), new kdgpu.MaxPool2d(2), new kdgpu.Flatten(), new kdgpu.Dense(64), new kdgpu.ReLU(), new kdgpu.Dense(10)])
    .build(ctx, [1, 28, 28], { seed });
  try {
    const result = await kdgpu.train(model, data, { epochs: 1, batchSize: 32, seed, optimizer: new kdgpu.Adam({ learningRate: 1e-3 }) });
    const [epoch] = result.history;
    return { loss: epoch.loss, accuracy: epoch.accuracy, seconds: result.seconds };
  } finally {
    model.dispose();
  }
}
