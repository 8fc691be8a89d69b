// The graph runtime: shape errors while tracing, compiled plans (one submit per run,
// buffers shared by liveness, fetches, reshape as a view of its input), feed validation,
// autodiff errors, eager == plan.
import { describe, expect, it } from 'vitest';
import { accumulate, add, compile, Graph, gradients, linear, matmul, mul, Random, relu, reshape, scale, sigmoid, sum, Tensor } from '../../src/index.js';
import { argmaxCorrect } from '../../src/ops/accuracy.js';
import { useGpu } from '../support/gpu.js';
import { expectClose, randomArray } from '../support/reference.js';

const gpu = useGpu();
const random = new Random(21);

describe('graph and plan', () => {
  it('shape errors appear while tracing, with the shapes', () => {
    const g = new Graph(gpu());
    const x = g.input('x', [8, 784]);
    const w = g.input('w', [100, 10]);
    expect(() => matmul(x, w)).toThrow('matmul: inner dimensions differ: A [8, 784] has 784 columns, B [100, 10] has 100 rows');
    expect(() => g.input('bad', [3, 0])).toThrow("input 'bad': shape [3, 0] is invalid");
    expect(() => g.input('x', [1])).toThrow("graph already has an input named 'x'");
  });

  it('a plan gives the same values as eager ops, in one submit per run', async () => {
    const ctx = gpu();
    const xs = randomArray(random, 6 * 5);
    const w = Tensor.from(ctx, randomArray(random, 5 * 4), [5, 4]);
    const b = Tensor.from(ctx, randomArray(random, 4), [4]);
    const eager = await scale(relu(linear(Tensor.from(ctx, xs, [6, 5]), w, b)), 3).read();

    const g = new Graph(ctx);
    const x = g.input('x', [6, 5]);
    const y = scale(relu(linear(x, w, b)), 3);
    const plan = compile(g, { fetch: [y] });
    const queue = ctx.device.queue;
    const submit = queue.submit.bind(queue);
    let submits = 0;
    queue.submit = (buffers) => {
      submits++;
      submit(buffers);
    };
    try {
      plan.run({ x: xs });
    } finally {
      queue.submit = submit;
    }
    expect(submits).toBe(1);
    expect(plan.dispatchCount).toBe(3);
    expectClose(await plan.read(y), eager, { atol: 1e-6, rtol: 1e-6 }, 'plan vs eager');
    plan.dispose();
  });

  it('a tensor over the device binding limit fails with its size and what to do', () => {
    const ctx = gpu();
    const g = new Graph(ctx);
    const rows = Math.ceil(ctx.limits.maxStorageBufferBindingSize / (4 * 1024)) + 1;
    const big = relu(g.input('x', [rows, 1024]));
    expect(() => compile(g, { fetch: [big] })).toThrow(/elementwise\/relu: 'x' \[\d+, 1024\] needs [\d.]+ MiB, over this device's maxStorageBufferBindingSize of [\d.]+ MiB; use a smaller batch/);
  });

  it('temporaries share buffers by liveness', () => {
    const ctx = gpu();
    const g = new Graph(ctx);
    let h = g.input('x', [256, 256]);
    for (let i = 0; i < 20; i++) h = relu(h);
    const plan = compile(g, { fetch: [h] });
    const tensorBytes = 256 * 256 * 4;
    // input + fetched output + at most two live temporaries, not 20 buffers.
    expect(plan.bytes).toBeLessThanOrEqual(4 * tensorBytes);
    plan.dispose();
  });

  it('an input first read late in a step never shares a buffer a temporary wrote earlier', async () => {
    // Fetching only dx prunes the forward pass: the first node writes sum's gradient (a
    // tensor of ones the size of x), and x is first read afterwards. x once got the freed
    // buffer of those ones and was overwritten before its reader ran.
    const ctx = gpu();
    const g = new Graph(ctx);
    const x = g.input('x', [64]);
    const weights = randomArray(random, 64);
    const [dx] = gradients(sum(mul(sigmoid(x), g.constant(weights, [64]))), [x]);
    const plan = compile(g, { fetch: [dx!] });
    const xs = randomArray(random, 64, -4, 4);
    plan.run({ x: xs });
    const s = (v: number) => 1 / (1 + Math.exp(-v));
    expectClose(await plan.read(dx!), Float64Array.from(xs, (v, i) => weights[i]! * s(v) * (1 - s(v))), { atol: 1e-6, rtol: 1e-5 }, 'dx');
    plan.dispose();
  });

  it('read after dispose throws like run, instead of returning whatever the pool reused the buffer for', async () => {
    const ctx = gpu();
    const g = new Graph(ctx);
    const y = relu(g.input('x', [4]));
    const plan = compile(g, { fetch: [y] });
    plan.run({ x: new Float32Array([1, -1, 2, -2]) });
    plan.dispose();
    await expect(plan.read(y)).rejects.toThrow('this plan was disposed; read before dispose()');
    expect(() => plan.run({ x: new Float32Array(4) })).toThrow('this plan was disposed');
  });

  it('Tensor.from converts plain arrays and Float64Array, Tensor.write refuses other element types, and oversized tensors fail with their shape', async () => {
    const ctx = gpu();
    const t = Tensor.from(ctx, new Float64Array([0.1, 2.5, -3]), [3]);
    expect(Array.from(await t.read())).toEqual(Array.from(Float32Array.from([0.1, 2.5, -3])));
    expect(() => t.write(new Float64Array(3) as never)).toThrow('Tensor.write: tensor [3] is f32 and takes a Float32Array, got Float64Array');
    expect(() => t.write(new Int32Array(3) as never)).toThrow('got Int32Array');
    t.dispose();
    const limit = ctx.limits.maxBufferSize;
    const rows = Math.ceil(limit / 4 / 1024) + 1;
    expect(() => Tensor.empty(ctx, [rows, 1024])).toThrow(new RegExp(`^Tensor \\[${rows}, 1024\\] needs [0-9.]+ MiB, over this device's maxBufferSize of [0-9.]+ MiB`));
  });

  it('validates feeds and reads', async () => {
    const ctx = gpu();
    const g = new Graph(ctx);
    const x = g.input('x', [2, 3]);
    const labels = g.input('labels', [2], 'u32');
    const [predicted] = argmaxCorrect(x, labels);
    const hidden = relu(x);
    const plan = compile(g, { fetch: [predicted!] });
    const ok = { x: new Float32Array(6).fill(1), labels: new Uint32Array(2) };
    expect(() => plan.run({ x: ok.x })).toThrow("missing feed for input 'labels' [2]");
    expect(() => plan.run({ ...ok, y: ok.x })).toThrow("plan has no input named 'y' (inputs: x, labels)");
    expect(() => plan.run({ ...ok, x: new Float32Array(5) })).toThrow("feed 'x' has 5 values but the input is [2, 3] (6 values)");
    expect(() => plan.run({ ...ok, labels: new Float32Array(2) })).toThrow("feed 'labels' must be a Uint32Array, got Float32Array");
    // Arrays of other element types were copied bit for bit: now refused by name.
    for (const [key, wrong, name] of [['labels', new Int32Array(2), 'Int32Array'], ['labels', [1, 2], 'a plain Array']] as const) {
      expect(() => plan.run({ ...ok, [key]: wrong as never })).toThrow(`feed '${key}' must be a Uint32Array, got ${name}`);
    }
    const withNaN = new Float32Array(6).fill(1);
    withNaN[4] = NaN;
    expect(() => plan.run({ ...ok, x: withNaN })).toThrow("feed 'x' holds NaN at index 4; inputs must be finite");
    plan.run(ok);
    expect(Array.from(await plan.read(predicted!))).toEqual([0, 0]);
    await expect(plan.read(hidden)).rejects.toThrow('was not listed in compile({ fetch })');
    plan.dispose();
    expect(() => plan.run(ok)).toThrow('this plan was disposed');
  });

  it('autodiff: accumulates shared uses, and says when there is no gradient', async () => {
    const ctx = gpu();
    const g = new Graph(ctx);
    const x = g.input('x', [3]);
    const unrelated = g.input('u', [3]);
    const loss = sum(add(x, x));
    const [dx] = gradients(loss, [x]);
    const plan = compile(g, { fetch: [dx!] });
    plan.run({ x: new Float32Array([1, 2, 3]), u: new Float32Array(3) });
    expect(Array.from(await plan.read(dx!))).toEqual([2, 2, 2]);
    expect(() => gradients(loss, [unrelated])).toThrow(/the loss does not depend on tensor#\d+\(input 'u'/);
    const labels = g.input('labels', [1], 'u32');
    const [, correct] = argmaxCorrect(g.input('z', [1, 3]), labels);
    const z = correct!.source.kind === 'op' ? correct!.source.node.inputs[0]! : x;
    expect(() => gradients(sum(correct!), [z])).toThrow("cannot differentiate through 'argmax_correct': it has no gradient rule");
    plan.dispose();
  });
});

describe('views: reshape shares its input buffer in compiled plans', () => {
  const relu64 = (v: Float32Array) => Float64Array.from(v, (a) => Math.max(a, 0));

  it('runs no dispatch, and its root lives until the last use of any view of it', async () => {
    const ctx = gpu();
    const g = new Graph(ctx);
    const x = g.input('x', [8, 32]);
    const a = relu(x);
    const view = reshape(reshape(a, [256]), [16, 16]);
    // Temporaries of the same size made while only the views still need a's buffer: had it
    // been freed after the first reshape, they would overwrite it.
    let b = scale(x, 2);
    for (let i = 0; i < 4; i++) b = scale(relu(b), 0.5);
    const out = add(reshape(view, [8, 32]), b);
    const xs = randomArray(random, 256);
    // b = relu(x) / 8, so out = 1.125 · relu(x).
    const expected = Float64Array.from(xs, (v) => 1.125 * Math.max(v, 0));
    const plan = compile(g, { fetch: [out] });
    expect(plan.dispatchCount).toBe(11); // relu, scale, 4 × (relu, scale), add: no copies
    plan.run({ x: xs });
    expectClose(await plan.read(out), expected, { atol: 1e-6, rtol: 1e-6 }, 'out');
    plan.dispose();
    // A fetched view keeps its root's buffer out of reuse.
    const fetchingView = compile(g, { fetch: [out, view] });
    fetchingView.run({ x: xs });
    expectClose(await fetchingView.read(out), expected, { atol: 1e-6, rtol: 1e-6 }, 'out');
    expectClose(await fetchingView.read(view), relu64(xs), { atol: 0, rtol: 0 }, 'fetched view');
    fetchingView.dispose();
  });

  it('stays a copy of a bound tensor (updated in place later in the step)', async () => {
    const ctx = gpu();
    const g = new Graph(ctx);
    const p = Tensor.from(ctx, new Float32Array([1, -2, 3, -4]), [2, 2]);
    const snapshot = reshape(g.bind(p), [4]);
    accumulate(g.bind(p), g.constant(new Float32Array([10, 10, 10, 10]), [2, 2]));
    const after = relu(snapshot);
    const plan = compile(g, { fetch: [after] });
    plan.run();
    expect(Array.from(await plan.read(after))).toEqual([1, 0, 3, 0]);
    expect(Array.from(await p.read())).toEqual([11, 8, 13, 6]);
    plan.dispose();
    p.dispose();
  });

  it('stays a copy when a node writes its input or the view in place', async () => {
    const ctx = gpu();
    const g = new Graph(ctx);
    const x = g.input('x', [4]);
    const a = relu(x);
    const view = reshape(a, [2, 2]);
    accumulate(view, g.constant(new Float32Array([10, 10, 10, 10]), [2, 2]));
    const out = scale(a, 1);
    const plan = compile(g, { fetch: [out, view] });
    plan.run({ x: new Float32Array([1, -2, 3, -4]) });
    expect(Array.from(await plan.read(out))).toEqual([1, 0, 3, 0]);
    expect(Array.from(await plan.read(view))).toEqual([11, 10, 13, 10]);
    plan.dispose();
  });
});
