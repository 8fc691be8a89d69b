// Shader-level tests of shaders/cast.wgsl (f32_to_f16, f16_to_f32) and of the host's f16
// helpers (src/graph/half.ts) they are compared with. Exact: the casts must give the same
// bits as IEEE round-to-nearest-even, including overflow to ±∞ from 65520 up, NaN,
// subnormals and ties. The host's rounding is itself checked against every f16 value
// (round trip) and every midpoint between neighbours (ties to even), computed in float64.
import { describe, expect, it } from 'vitest';
import { castF16, castF32, compile, F16_MAX, Graph, halfBits, halfValue, Random, relu, Tensor } from '../../src/index.js';
import { useGpu } from '../support/gpu.js';

const gpu = useGpu();

describe('host f16 rounding (src/graph/half.ts)', () => {
  it('maps every finite f16 value to itself and rounds midpoints to the even neighbour', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const v = halfValue(bits);
      if (Number.isNaN(v)) {
        expect(Number.isNaN(halfValue(halfBits(v)))).toBe(true);
        continue;
      }
      expect(halfBits(v)).toBe(bits === 0x8000 ? 0x8000 : bits);
      const magnitude = bits & 0x7fff;
      if (magnitude < 0x7bff) {
        // The midpoint to the next larger magnitude is exact in f32 (11 + 1 significant bits).
        const next = halfValue(bits + 1);
        const mid = (v + next) / 2;
        const even = (bits & 1) === 0 ? bits : bits + 1;
        expect(halfBits(mid), `midpoint after 0x${bits.toString(16)}`).toBe(even);
        expect(halfBits(v + (next - v) * 0.4)).toBe(bits);
        expect(halfBits(v + (next - v) * 0.6)).toBe(bits + 1);
      }
    }
  });

  it('overflows to ∞ from 65520 up and keeps 65504 up to there', () => {
    expect(halfValue(halfBits(65519.99))).toBe(F16_MAX);
    expect(halfValue(halfBits(65520))).toBe(Infinity);
    expect(halfValue(halfBits(-1e6))).toBe(-Infinity);
    expect(halfValue(halfBits(2 ** -25))).toBe(0);
    expect(halfValue(halfBits(2 ** -25 * 1.0001))).toBe(2 ** -24);
  });
});

describe('cast.wgsl', () => {
  const edges = [0, -0, 1, -1, F16_MAX, 65519, 65520, -65520, 1e9, Infinity, -Infinity, NaN, 2 ** -24, 2 ** -25, 3 * 2 ** -26, 2 ** -14, 2 ** -14 * 0.999, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 1e-30];

  for (const size of [1, 2, 7, 1000, 2 ** 17 + 3]) {
    it(`f32_to_f16 then f16_to_f32 give the host's bits, ${size} values`, async () => {
      const ctx = gpu();
      const random = new Random(size);
      const data = new Float32Array(size);
      for (let i = 0; i < size; i++) {
        // Magnitudes from 2^-30 to 2^18 so that subnormals, normals and overflows all occur.
        data[i] = i < edges.length ? edges[i]! : (random.uniform() < 0.5 ? -1 : 1) * 2 ** (-30 + 48 * random.uniform());
      }
      const x = Tensor.from(ctx, data, [size]);
      const h = castF16(x);
      const back = castF32(h);
      expect(h.dtype).toBe('f16');
      const [halves, values] = await Promise.all([h.read(), back.read()]);
      for (let i = 0; i < size; i++) {
        const expected = halfValue(halfBits(data[i]!));
        if (Number.isNaN(expected)) {
          expect(Number.isNaN(halves[i]!) && Number.isNaN(values[i]!), `NaN at ${i}`).toBe(true);
        } else {
          expect(Object.is(halves[i], expected), `f16 of ${data[i]} at ${i}: got ${halves[i]}, expected ${expected}`).toBe(true);
          expect(Object.is(values[i], expected), `f32 of ${data[i]} at ${i}: got ${values[i]}, expected ${expected}`).toBe(true);
        }
      }
      for (const t of [x, h, back]) t.dispose();
    });
  }

  it('f16 tensors upload rounded to f16 and read back as Float32Array, eagerly and from a plan', async () => {
    const ctx = gpu();
    const values = [1 / 3, -2.5e-6, 70000, 0.1, 5];
    const h = Tensor.from(ctx, values, [5], 'f16');
    expect(h.dtype).toBe('f16');
    const expected = values.map((v) => halfValue(halfBits(v)));
    expect(Array.from(await h.read())).toEqual(expected);
    expect(Array.from(await castF32(h).read())).toEqual(expected);
    const graph = new Graph(ctx);
    const x = graph.input('x', [5]);
    const half = castF16(x);
    const plan = compile(graph, { fetch: [half] });
    plan.run({ x: Float32Array.from(values) });
    expect(Array.from(await plan.read(half))).toEqual(expected);
    expect(() => graph.input('h', [2], 'f16')).toThrow(/graph inputs are f32 or u32 .*; cast inside the graph with castF16/);
    plan.dispose();
    graph.dispose();
    h.dispose();
  });

  it('refuses f16 tensors in ops that do not take them, naming the fix', () => {
    const ctx = gpu();
    const h = castF16(Tensor.from(ctx, [1, 2], [2]));
    expect(() => relu(h)).toThrow(/relu: input 0 is f16 \(\[2\]\), but only castF32, matmul, linear and the conv2d passes take f16 tensors; cast it back with castF32 first/);
    expect(() => castF16(h)).toThrow(/cast_f16: input 0 is f16/);
    expect(() => castF32(castF32(h))).toThrow(/castF32: x must be f16, got f32/);
    h.dispose();
  });
});
