// Tests of dynamic loss scaling (src/optim/loss-scale.ts, shaders/loss_scale.wgsl) and the
// optimizers' scaled entries (adam_update_scaled, adam_update4_scaled, sgd_momentum_update_scaled): the scaler's
// rules on forced overflows (skip the step and halve S; double S after growthInterval clean
// steps), the unscaled update against a float64 reference, and the check of every gradient.
// An overflow is forced by an f16 layer: the loss's gradient seed is S, which the backward
// GEMMs round to f16, so S ≥ 65520 overflows to ∞ and the weight gradient is not finite.
// Tolerance of the update: 1e-6 absolute + 1e-5 relative (f32 arithmetic; the f16-rounded
// inputs and the power-of-two S make the gradient itself exact).
import { describe, expect, it } from 'vitest';
import { Adam, compile, Graph, linear, LossScaler, Random, roundToHalf, Sgd, sum, Tensor } from '../../src/index.js';
import { useGpu } from '../support/gpu.js';
import { expectClose, randomArray } from '../support/reference.js';

const gpu = useGpu();

describe('LossScaler with an f16 linear layer', () => {
  it('skips the step and halves S on overflow, doubles S after growthInterval clean steps, and unscales the update', async () => {
    const ctx = gpu();
    if (!ctx.hasF16) return void console.warn('skipped: this device has no shader-f16');
    const [M, K, N] = [4, 3, 5];
    const random = new Random(3);
    const xData = randomArray(random, M * K);
    const w0 = randomArray(random, K * N);
    const w = Tensor.from(ctx, w0, [K, N]);
    const b = Tensor.from(ctx, new Float32Array(N), [N]);
    const graph = new Graph(ctx);
    const x = graph.input('x', [M, K]);
    const loss = sum(linear(x, graph.bind(w), graph.bind(b), { precision: 'f16' }));
    const scaler = new LossScaler(ctx, { initialScale: 2 ** 16, growthInterval: 2 });
    const lr = 0.125;
    new Sgd({ learningRate: lr }).minimize(loss, [w, b], { lossScaler: scaler });
    const plan = compile(graph, { fetch: [loss] });
    // d sum / dW[k, n] = Σ_m x16[m, k]; d sum / db[n] = M.
    const x16 = roundToHalf(xData);
    const dW = new Float64Array(K * N).map((_, i) => [0, 1, 2, 3].reduce((s, m) => s + x16[m * K + Math.floor(i / N)]!, 0));
    const expectedW = Float64Array.from(w0);
    const expectedB = new Float64Array(N);
    const applyStep = () => {
      expectedW.forEach((v, i) => (expectedW[i] = v - lr * dW[i]!));
      expectedB.forEach((v, i) => (expectedB[i] = v - lr * M));
    };
    // [S after the step, skipped steps, clean steps, whether the step updated]
    const script: [number, number, number, boolean][] = [
      [2 ** 15, 1, 0, false], // 65536 overflows f16: skipped, halved
      [2 ** 15, 1, 1, true],
      [2 ** 16, 1, 0, true], // second clean step in a row: doubled
      [2 ** 15, 2, 0, false], // overflows again
      [2 ** 15, 2, 1, true],
    ];
    for (const [step, [scale, skippedSteps, cleanSteps, updated]] of script.entries()) {
      plan.run({ x: xData });
      if (updated) applyStep();
      expect(await scaler.read(), `after step ${step + 1}`).toEqual({ scale, skippedSteps, cleanSteps });
      expectClose(await w.read(), expectedW, { atol: 1e-6, rtol: 1e-5 }, `W after step ${step + 1}`);
      expectClose(await b.read(), expectedB, { atol: 1e-6, rtol: 1e-5 }, `b after step ${step + 1}`);
    }
    plan.dispose();
    graph.dispose();
    scaler.dispose();
    for (const t of [w, b]) t.dispose();
  });

  // W [4, 2] takes Adam's vec4 entry (adam_update4_scaled), b [2] the scalar one.
  it('skips Adam entirely (parameters and moments) while gradients overflow, then applies the unscaled update', async () => {
    const ctx = gpu();
    if (!ctx.hasF16) return void console.warn('skipped: this device has no shader-f16');
    const w0 = randomArray(new Random(5), 8);
    const b0 = new Float32Array([0.5, -0.5]);
    const w = Tensor.from(ctx, w0, [4, 2]);
    const b = Tensor.from(ctx, b0, [2]);
    const graph = new Graph(ctx);
    const x = graph.input('x', [2, 4]);
    const loss = sum(linear(x, graph.bind(w), graph.bind(b), { precision: 'f16' }));
    const scaler = new LossScaler(ctx, { initialScale: 2 ** 20 });
    const hyper = { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
    const adam = new Adam(hyper);
    adam.minimize(loss, [w, b], { lossScaler: scaler });
    const plan = compile(graph);
    const xData = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]);
    // S = 2^20 … 2^16 overflow f16 (five skipped steps), 2^15 does not.
    for (let step = 1; step <= 5; step++) {
      plan.run({ x: xData });
      expect(await scaler.read()).toEqual({ scale: 2 ** (20 - step), skippedSteps: step, cleanSteps: 0 });
      expect(Array.from(await w.read())).toEqual(Array.from(w0));
      expect(Array.from(await b.read())).toEqual(Array.from(b0));
      for (const state of [...adam.stateOf(w), ...adam.stateOf(b)]) expect(Array.from(await state.read()).every((v) => v === 0)).toBe(true);
    }
    plan.run({ x: xData });
    expect(await scaler.read()).toEqual({ scale: 2 ** 15, skippedSteps: 5, cleanSteps: 1 });
    // One Adam update from zero moments with the unscaled gradient, at t = 6: the skipped
    // steps count in the optimizer's step (documented in Optimizer.minimize).
    const adamStep = (p: number, g: number) => {
      const t = 6;
      const mHat = ((1 - hyper.beta1) * g) / (1 - hyper.beta1 ** t);
      const vHat = ((1 - hyper.beta2) * g * g) / (1 - hyper.beta2 ** t);
      return p - hyper.learningRate * (mHat / (Math.sqrt(vHat) + hyper.epsilon));
    };
    const dW = Array.from({ length: 8 }, (_, i) => xData[Math.floor(i / 2)]! + xData[4 + Math.floor(i / 2)]!);
    expectClose(await w.read(), Float64Array.from(w0, (p, i) => adamStep(p, dW[i]!)), { atol: 1e-6, rtol: 1e-5 }, 'W');
    expectClose(await b.read(), Float64Array.from(b0, (p) => adamStep(p, 2)), { atol: 1e-6, rtol: 1e-5 }, 'b');
    plan.dispose();
    graph.dispose();
    scaler.dispose();
    adam.dispose();
    for (const t of [w, b]) t.dispose();
  });

  it('refuses a scale that is not a power of two and a growth interval that is not a positive integer', () => {
    const ctx = gpu();
    expect(() => new LossScaler(ctx, { initialScale: 1000 })).toThrow(/initialScale must be a power of two \(e\.g\. 32768\), got 1000/);
    expect(() => new LossScaler(ctx, { growthInterval: 0 })).toThrow(/growthInterval must be a positive integer of steps, got 0/);
  });
});
