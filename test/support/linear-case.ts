// One check of linear (gemm_bias_act: x·W + b, optional ReLU) on random [M, K]·[K, N]
// inputs against float64, shared by the register-core and workgroup-tile tests.
import { type GpuContext, linear, Random, Tensor } from '../../src/index.js';
import { expectClose, gemmReference, randomArray } from './reference.js';

export async function checkLinear(ctx: GpuContext, M: number, N: number, K: number, relu: boolean, tolerance: { atol: number; rtol: number }): Promise<void> {
  const random = new Random(M + N + K + (relu ? 100 : 0));
  const xData = randomArray(random, M * K);
  const wData = randomArray(random, K * N);
  const bData = randomArray(random, N);
  const x = Tensor.from(ctx, xData, [M, K]);
  const w = Tensor.from(ctx, wData, [K, N]);
  const b = Tensor.from(ctx, bData, [N]);
  const y = linear(x, w, b, { relu });
  const expected = gemmReference(xData, wData, M, N, K, false, false).map((v, i) => {
    const z = v + bData[i % N]!;
    return relu ? Math.max(z, 0) : z;
  });
  expectClose(await y.read(), expected, tolerance, 'Y');
  for (const t of [x, w, b, y]) t.dispose();
}
