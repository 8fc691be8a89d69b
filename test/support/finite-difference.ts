import { compile, type GpuContext, Graph, gradients, mul, Random, sum, type SymbolicTensor, type TensorData } from '../../src/index.js';
import { randomArray } from './reference.js';

export interface GradientInput {
  name: string;
  shape: number[];
  data: TensorData;
  /** false for inputs that are not differentiated (labels, masks). */
  differentiable?: boolean;
}

export interface GradientCheckOptions {
  /** Central-difference step. */
  eps?: number;
  /** |analytic − numeric| ≤ atol + rtol·|numeric| */
  atol?: number;
  rtol?: number;
  /** Coordinates checked per input (chosen at random). */
  samples?: number;
  seed?: number;
}

/**
 * Checks autodiff against central finite differences on the GPU. The scalar checked is
 * L = Σ f(x) ⊙ R for a fixed random R, so a gradient that is wrong in any element (or
 * permuted) changes the result. Numeric derivatives are f32, so tolerances are ~1e-2.
 */
export async function checkGradients(
  ctx: GpuContext,
  build: (inputs: SymbolicTensor[]) => SymbolicTensor,
  inputs: GradientInput[],
  options: GradientCheckOptions = {},
): Promise<void> {
  const { eps = 1e-2, atol = 1e-2, rtol = 1e-2, samples = 6, seed = 1 } = options;
  const random = new Random(seed);
  const graph = new Graph(ctx);
  const symbols = inputs.map((i) => graph.input(i.name, i.shape, i.data instanceof Uint32Array ? 'u32' : 'f32'));
  const out = build(symbols);
  const projection = graph.constant(randomArray(random, out.size), out.shape);
  const loss = sum(mul(out, projection));
  const wrt = symbols.filter((_, k) => inputs[k]!.differentiable !== false);
  const grads = gradients(loss, wrt);
  const plan = compile(graph, { fetch: [loss, ...grads] });
  const feeds: Record<string, TensorData> = {};
  for (const i of inputs) feeds[i.name] = i.data.slice();
  try {
    plan.run(feeds);
    const analytic = await Promise.all(grads.map((g) => plan.read(g)));
    const lossAt = async (name: string, index: number, delta: number) => {
      const data = feeds[name] as Float32Array;
      const saved = data[index]!;
      data[index] = saved + delta;
      plan.run(feeds);
      data[index] = saved;
      return (await plan.read(loss))[0]!;
    };
    let k = 0;
    for (const input of inputs) {
      if (input.differentiable === false) continue;
      const grad = analytic[k++]!;
      const n = input.data.length;
      const picks = new Set<number>();
      while (picks.size < Math.min(samples, n)) picks.add(Math.floor(random.uniform() * n));
      for (const index of picks) {
        const numeric = ((await lossAt(input.name, index, eps)) - (await lossAt(input.name, index, -eps))) / (2 * eps);
        const value = grad[index]!;
        if (!(Math.abs(value - numeric) <= atol + rtol * Math.abs(numeric))) {
          throw new Error(`d/d${input.name}[${index}]: autodiff gives ${value}, finite differences ${numeric} (atol ${atol}, rtol ${rtol})`);
        }
      }
    }
  } finally {
    plan.dispose();
    graph.dispose();
  }
}
