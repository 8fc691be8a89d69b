// FGSM (Goodfellow et al., 2015) written in the page with kdgpu's public graph API, so the
// demo shows how an attack is built, not only its numbers.
//   x′ = clip(x + ε·sign(∇ₓ CE(softmax(f(x)), y)), 0, 1)
// x is in pixel units [0, 1]; the model was trained on normalized pixels, so the graph
// normalizes inside (the gradient is then w.r.t. the pixels themselves). The loss is the
// cross-entropy of the raw logits at T = 1: a student distilled at a high temperature is
// attacked through the same logits it classifies with.

/** Images per compiled run; the last partial batch is padded with blank images. */
const BATCH = 100;

/**
 * The FGSM adversarial version of `raw` (pixels in [0, 1], not normalized) for `model`, which
 * expects pixels normalized by `normalization` ({ mean, std }).
 *
 * @example const adversarial = await fgsm(kdgpu, student, rawTest, 0.1, kdgpu.MNIST_NORMALIZATION);
 */
export async function fgsm(kdgpu, model, raw, epsilon, normalization) {
  const size = raw.shape[0] * raw.shape[1] * raw.shape[2];
  const graph = new kdgpu.Graph(model.ctx);
  try {
    const x = graph.input('x', [BATCH, ...model.inputShape]);
    const y = graph.input('y', [BATCH], 'u32');
    const shift = graph.constant(new Float32Array(BATCH * size).fill(-normalization.mean / normalization.std), x.shape);
    const normalized = kdgpu.add(kdgpu.scale(x, 1 / normalization.std), shift);
    const loss = kdgpu.softmaxCrossEntropy(model.call(normalized, { training: false }), y);
    const [gradient] = kdgpu.gradients(loss, [x]);
    const plan = kdgpu.compile(graph, { fetch: [gradient] });
    try {
      const images = new Float32Array(raw.images.length);
      const batchImages = new Float32Array(BATCH * size);
      const batchLabels = new Uint32Array(BATCH);
      for (let start = 0; start < raw.count; start += BATCH) {
        const count = Math.min(BATCH, raw.count - start);
        batchImages.fill(0).set(raw.images.subarray(start * size, (start + count) * size));
        batchLabels.fill(0).set(raw.labels.subarray(start, start + count));
        plan.run({ x: batchImages, y: batchLabels });
        const g = await plan.read(gradient);
        for (let i = 0; i < count * size; i++) {
          const p = start * size + i;
          images[p] = Math.min(1, Math.max(0, raw.images[p] + epsilon * Math.sign(g[i])));
        }
      }
      return { ...raw, images, labels: raw.labels.slice() };
    } finally {
      plan.dispose();
    }
  } finally {
    graph.dispose();
  }
}
