// Shader-level tests of shaders/softmax.wgsl (all four entry points) against float64, and
// finite differences of both gradients. Tolerance: f32 exp/log over rows of up to 1,000:
// atol 1e-6, rtol 1e-5.
import { describe, it } from 'vitest';
import { compile, gradients, Graph, logSoftmax, mul, Random, softmax, sum, Tensor } from '../../src/index.js';
import { checkGradients } from '../support/finite-difference.js';
import { useGpu } from '../support/gpu.js';
import { expectClose, randomArray } from '../support/reference.js';

const gpu = useGpu();
const random = new Random(5);
const tol = { atol: 1e-6, rtol: 1e-5 };

function reference(xs: Float32Array, cols: number, log: boolean): Float64Array {
  const out = new Float64Array(xs.length);
  for (let start = 0; start < xs.length; start += cols) {
    const row = Array.from(xs.subarray(start, start + cols));
    const m = Math.max(...row);
    const total = row.reduce((s, v) => s + Math.exp(v - m), 0);
    row.forEach((v, c) => (out[start + c] = log ? v - m - Math.log(total) : Math.exp(v - m) / total));
  }
  return out;
}

describe('softmax.wgsl', () => {
  for (const [rows, cols] of [[1, 1], [3, 10], [70, 1000], [130, 7]] as const) {
    for (const log of [false, true]) {
      it(`${log ? 'log_softmax' : 'softmax'} forward and backward on [${rows}, ${cols}] (logits up to ±30)`, async () => {
        const ctx = gpu();
        const xs = randomArray(random, rows * cols, -30, 30);
        const dys = randomArray(random, rows * cols);
        const f = log ? logSoftmax : softmax;
        const x = Tensor.from(ctx, xs, [rows, cols]);
        const y = f(x);
        const ys = reference(xs, cols, log);
        expectClose(await y.read(), ys, tol, 'forward');
        const graph = new Graph(ctx);
        const gx = graph.input('x', [rows, cols]);
        const out = f(gx);
        const [dx] = gradients(sum(mul(out, graph.constant(dys, [rows, cols]))), [gx]);
        const plan = compile(graph, { fetch: [out, dx!] });
        plan.run({ x: xs });
        // The backward kernel reads the forward output as f32: the reference does too.
        const yGpu = await plan.read(out);
        const expected = new Float64Array(xs.length);
        for (let start = 0; start < xs.length; start += cols) {
          let dot = 0;
          let total = 0;
          for (let c = 0; c < cols; c++) {
            dot += dys[start + c]! * (log ? 0 : yGpu[start + c]!);
            total += dys[start + c]!;
          }
          for (let c = 0; c < cols; c++) {
            const i = start + c;
            expected[i] = log ? dys[i]! - Math.exp(yGpu[i]!) * total : yGpu[i]! * (dys[i]! - dot);
          }
        }
        expectClose(await plan.read(dx!), expected, tol, 'backward');
        plan.dispose();
        graph.dispose();
        x.dispose();
        y.dispose();
      });
    }
  }

  it('rows of the trailing 12 elements of a [2, 3, 4] tensor (ONNX opset < 13 coercion at axis 1)', async () => {
    const xs = randomArray(random, 24, -3, 3);
    const y = softmax(Tensor.from(gpu(), xs, [2, 3, 4]), 12);
    expectClose(await y.read(), reference(xs, 12, false), tol, 'softmax');
  });

  for (const log of [false, true]) {
    it(`${log ? 'logSoftmax' : 'softmax'} gradient matches finite differences`, async () => {
      await checkGradients(gpu(), ([x]) => (log ? logSoftmax(x!) : softmax(x!)), [{ name: 'x', shape: [4, 6], data: randomArray(random, 24, -2, 2) }], { samples: 10, eps: 1e-3 });
    });
  }
});
