// Per-dispatch GPU times of a plan (src/graph/profile.ts, Plan.profile) from timestamp
// queries: one time per dispatch in plan order with the op and kernel named, finite and
// non-negative; the summary sums them by kernel; feeds are checked as by run; a profiled
// training plan updates its weights as run does. Lavapipe offers 'timestamp-query'; on a
// device without it the call fails saying so (checked through canProfile).
import { describe, expect, it } from 'vitest';
import { Adam, canProfile, compile, Dense, Flatten, Graph, profileSummary, ReLU, sequential, softmaxCrossEntropy } from '../../src/index.js';
import { useGpu } from '../support/gpu.js';

const gpu = useGpu();

describe('Plan.profile', () => {
  it('times every dispatch of a training step, names it, and updates the weights as run does', async () => {
    const ctx = gpu();
    expect(canProfile(ctx)).toBe(true); // lavapipe has timestamp queries; kdgpu requests them
    const model = sequential([new Flatten(), new Dense(32), new ReLU(), new Dense(10)]).build(ctx, [1, 8, 8], { seed: 1 });
    const graph = new Graph(ctx);
    const x = graph.input('x', [16, 1, 8, 8]);
    const y = graph.input('y', [16], 'u32');
    const loss = softmaxCrossEntropy(model.call(x, { training: true }), y);
    new Adam({ learningRate: 1e-2 }).minimize(loss, [...model.parameters().values()]);
    const plan = compile(graph, { fetch: [loss] });
    const feeds = { x: Float32Array.from({ length: 16 * 64 }, (_, i) => (i % 7) / 7), y: Uint32Array.from({ length: 16 }, (_, i) => i % 10) };
    const before = (await [...model.parameters().values()][0]!.read()) as Float32Array;
    const times = await plan.profile(feeds, { runs: 3 });
    expect(times.map((t) => t.index)).toEqual(Array.from({ length: plan.dispatchCount }, (_, i) => i));
    expect(times.every((t) => Number.isFinite(t.milliseconds) && t.milliseconds >= 0)).toBe(true);
    expect(times.some((t) => t.milliseconds > 0)).toBe(true);
    expect(times.map((t) => t.label)).toEqual(expect.arrayContaining([expect.stringMatching(/^linear: gemm\//), expect.stringMatching(/^adam/)]));
    const after = (await [...model.parameters().values()][0]!.read()) as Float32Array;
    expect(after).not.toEqual(before); // three Adam steps ran
    const summary = profileSummary(times);
    expect(summary.reduce((a, s) => a + s.count, 0)).toBe(times.length);
    expect(summary.reduce((a, s) => a + s.share, 0)).toBeCloseTo(1, 6);
    expect([...summary].sort((a, b) => b.milliseconds - a.milliseconds)).toEqual(summary);
    await expect(plan.profile({ x: feeds.x })).rejects.toThrow("plan.run: missing feed for input 'y' [16]");
    await expect(plan.profile(feeds, { runs: 0 })).rejects.toThrow('Plan.profile: runs must be a positive integer, got 0');
    plan.dispose();
    graph.dispose();
    model.dispose();
  });
});
