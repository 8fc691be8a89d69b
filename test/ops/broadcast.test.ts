// Shader-level tests of shaders/broadcast.wgsl (binary, binary_backward, repeat, sum_repeats,
// slice, unslice, gather_rows) against float64 references on random inputs, finite-difference checks of
// every gradient rule, and the shape errors.
// Tolerances (|err| ≤ atol + rtol·|expected|):
//   add, sub, mul, max, min, prelu: one f32 rounding, rtol 1.2e-7, atol 0;
//   div: WGSL allows 2.5 ulp, rtol 4e-7; pow: integer exponents are ≤ 12 products, rtol 2e-6,
//   others exp2/log2 in f32, rtol 2e-5;
//   repeat, slice, unslice, gather_rows: exact copies (times a factor), rtol 1.2e-7;
//   sums (sum_repeats, broadcast gradients): atol 1e-6·Σ|terms| (blocked f32 sums).
import { describe, expect, it } from 'vitest';
import { compile, Graph, gradients, mul, Random, type SymbolicTensor, sum, Tensor } from '../../src/index.js';
import { type BinaryKind, broadcastShapes, div, gatherRows, maximum, minimum, mulBroadcast, pow, prelu, repeat, slice, sub, sumRepeats, addBroadcast } from '../../src/ops/broadcast.js';
import { checkGradients } from '../support/finite-difference.js';
import { useGpu } from '../support/gpu.js';
import { expectClose, randomArray } from '../support/reference.js';

const gpu = useGpu();
const random = new Random(23);
const size = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

const RUN: Record<BinaryKind, (a: SymbolicTensor | Tensor, b: SymbolicTensor | Tensor) => SymbolicTensor | Tensor> = {
  add: addBroadcast,
  sub,
  mul: mulBroadcast,
  div,
  pow,
  max: maximum,
  min: minimum,
  prelu: (a, b) => prelu(a, b),
};

/** f and its partial derivatives in float64. */
const F: Record<BinaryKind, { f: (a: number, b: number) => number; da: (a: number, b: number) => number; db: (a: number, b: number) => number }> = {
  add: { f: (a, b) => a + b, da: () => 1, db: () => 1 },
  sub: { f: (a, b) => a - b, da: () => 1, db: () => -1 },
  mul: { f: (a, b) => a * b, da: (_a, b) => b, db: (a) => a },
  div: { f: (a, b) => a / b, da: (_a, b) => 1 / b, db: (a, b) => -a / (b * b) },
  pow: { f: (a, b) => a ** b, da: (a, b) => b * a ** (b - 1), db: (a, b) => a ** b * Math.log(a) },
  max: { f: Math.max, da: (a, b) => (a > b ? 1 : a === b ? 0.5 : 0), db: (a, b) => (b > a ? 1 : a === b ? 0.5 : 0) },
  min: { f: Math.min, da: (a, b) => (a < b ? 1 : a === b ? 0.5 : 0), db: (a, b) => (b < a ? 1 : a === b ? 0.5 : 0) },
  prelu: { f: (a, b) => (a >= 0 ? a : a * b), da: (a, b) => (a >= 0 ? 1 : b), db: (a) => (a >= 0 ? 0 : a) },
};

const TOL: Record<BinaryKind, { atol: number; rtol: number }> = {
  add: { atol: 0, rtol: 1.2e-7 },
  sub: { atol: 0, rtol: 1.2e-7 },
  mul: { atol: 0, rtol: 1.2e-7 },
  div: { atol: 0, rtol: 4e-7 },
  pow: { atol: 0, rtol: 2e-5 },
  max: { atol: 0, rtol: 1.2e-7 },
  min: { atol: 0, rtol: 1.2e-7 },
  prelu: { atol: 0, rtol: 1.2e-7 },
};

/** Flat index into `shape` (right-aligned, broadcast) of output coordinates `coords`. */
function sourceIndex(shape: readonly number[], coords: readonly number[]): number {
  let index = 0;
  for (let k = 0; k < shape.length; k++) {
    const c = coords[k + coords.length - shape.length]!;
    index = index * shape[k]! + (shape[k] === 1 ? 0 : c);
  }
  return index;
}

function coordsOf(i: number, shape: readonly number[]): number[] {
  const coords = new Array<number>(shape.length);
  for (let k = shape.length - 1; k >= 0; k--) {
    coords[k] = i % shape[k]!;
    i = Math.floor(i / shape[k]!);
  }
  return coords;
}

/** Float64 forward and the gradients of Σ f(a, b) ⊙ r, with Σ|terms| per gradient entry. */
function binaryReference(kind: BinaryKind, a: Float32Array, aShape: number[], b: Float32Array, bShape: number[], r?: Float32Array) {
  const out = broadcastShapes(kind, aShape, bShape);
  const n = size(out);
  const y = new Float64Array(n);
  const da = new Float64Array(a.length);
  const db = new Float64Array(b.length);
  const scaleA = new Float64Array(a.length);
  const scaleB = new Float64Array(b.length);
  for (let i = 0; i < n; i++) {
    const c = coordsOf(i, out);
    const ia = sourceIndex(aShape, c);
    const ib = sourceIndex(bShape, c);
    const [u, v] = [a[ia]!, b[ib]!];
    y[i] = F[kind].f(u, v);
    if (r) {
      const ta = r[i]! * F[kind].da(u, v);
      const tb = r[i]! * F[kind].db(u, v);
      da[ia] += ta;
      db[ib] += tb;
      scaleA[ia] += Math.abs(ta);
      scaleB[ib] += Math.abs(tb);
    }
  }
  return { out, y, da, db, scaleA: Math.max(...scaleA), scaleB: Math.max(...scaleB) };
}

/** Operands suited to `kind`: pow needs a > 0 for non-integer exponents; max/min no near-ties. */
function operands(kind: BinaryKind, aShape: number[], bShape: number[]): [Float32Array, Float32Array] {
  const a = randomArray(random, size(aShape));
  const b = randomArray(random, size(bShape));
  if (kind === 'pow') return [a.map((v) => 0.2 + Math.abs(v)), b.map((v) => 2 * v)];
  if (kind === 'div') return [a, b.map((v) => (v < 0 ? v - 0.5 : v + 0.5))];
  if (kind === 'max' || kind === 'min') {
    // Multiples of 0.1 against odd multiples of 0.05: never closer than 0.05.
    return [a.map((v) => Math.round(v * 10) / 10), b.map((v) => Math.round(v * 10) / 10 + 0.05)];
  }
  return [a, b];
}

const SHAPE_PAIRS: [number[], number[]][] = [
  [[3, 4, 5], [3, 4, 5]],
  [[3, 4, 5], [5]],
  [[2, 3, 1, 4], [3, 5, 1]],
  [[1], [6, 2]],
  [[4, 1, 6], [1, 5, 1]],
  [[2, 3, 1, 1, 2, 2, 3], [1, 1, 4, 5, 2, 2, 3]], // seven axes, merged into three for the kernel
  [[70_001], [1]], // one value against many (the 2-D grid case is its own test below)
];
const KINDS = Object.keys(F) as BinaryKind[];

describe('broadcast.wgsl binary', () => {
  for (const kind of KINDS) {
    it(`${kind}: forward and both broadcast gradients match float64`, async () => {
      const ctx = gpu();
      for (const [aShape, bShape] of SHAPE_PAIRS) {
        if (kind === 'prelu' && broadcastShapes('prelu', aShape, bShape).join() !== aShape.join()) continue;
        const [av, bv] = operands(kind, aShape, bShape);
        const a = Tensor.from(ctx, av, aShape);
        const b = Tensor.from(ctx, bv, bShape);
        const y = RUN[kind](a, b) as Tensor;
        const reference = binaryReference(kind, av, aShape, bv, bShape);
        expect(y.shape).toEqual(reference.out);
        expectClose(await y.read(), reference.y, TOL[kind], `${kind} ${aShape} with ${bShape}`);
        y.dispose();
        a.dispose();
        b.dispose();
        // Gradients of Σ f(a, b) ⊙ r through binary_backward and sum_repeats.
        const graph = new Graph(ctx);
        const ga = graph.input('a', aShape);
        const gb = graph.input('b', bShape);
        const r = randomArray(random, size(reference.out));
        const loss = sum(mul(RUN[kind](ga, gb) as SymbolicTensor, graph.constant(r, reference.out)));
        const [da, db] = gradients(loss, [ga, gb]);
        const plan = compile(graph, { fetch: [da!, db!] });
        plan.run({ a: av, b: bv });
        const withGrads = binaryReference(kind, av, aShape, bv, bShape, r);
        expectClose(await plan.read(da!), withGrads.da, { atol: 1e-6 * withGrads.scaleA, rtol: 1e-6 }, `d${kind}/da ${aShape} with ${bShape}`);
        expectClose(await plan.read(db!), withGrads.db, { atol: 1e-6 * withGrads.scaleB, rtol: 1e-6 }, `d${kind}/db ${aShape} with ${bShape}`);
        plan.dispose();
        graph.dispose();
      }
    });

    it(`${kind}: gradients match central finite differences`, async () => {
      const [av, bv] = operands(kind, [3, 4, 2], [4, 1]);
      await checkGradients(
        gpu(),
        ([a, b]) => RUN[kind](a!, b!) as SymbolicTensor,
        [
          { name: 'a', shape: [3, 4, 2], data: av },
          { name: 'b', shape: [4, 1], data: bv },
        ],
        { samples: 8, eps: 1e-3 },
      );
    });
  }

  it('binary on 16.8 million elements (a 2-D grid of workgroups) matches float64', async () => {
    const ctx = gpu();
    const [rows, cols] = [4097, 4096]; // 65,552 workgroups of 256: past 65,535, so folded
    // Cheap deterministic values and a hand-written comparison: 16.8M random draws and
    // reference arrays would dominate the test's time.
    const av = new Float32Array(rows * cols);
    for (let i = 0; i < av.length; i++) av[i] = (i % 2003) / 1001.5 - 1 + 1e-4;
    const bv = randomArray(random, rows);
    const a = Tensor.from(ctx, av, [rows, cols]);
    const b = Tensor.from(ctx, bv, [rows, 1]);
    const y = sub(a, b);
    const out = await y.read();
    expect(out.length).toBe(rows * cols);
    for (let i = 0; i < out.length; i++) {
      const expected = av[i]! - bv[Math.floor(i / cols)]!;
      if (!(Math.abs(out[i]! - expected) <= TOL.sub.rtol * Math.abs(expected))) throw new Error(`sub [${rows}, ${cols}] − [${rows}, 1]: element ${i} is ${out[i]}, expected ${expected}`);
    }
    for (const t of [a, b, y]) t.dispose();
  });

  it('pow: integer exponents are exact products, defined for negative bases; 0^0 = 1', async () => {
    const ctx = gpu();
    const base = Float32Array.from([-1.5, -0.75, 0, 0, 2, -3]);
    const exponent = Float32Array.from([2, 3, 0, 2, -2, 5]);
    const y = pow(Tensor.from(ctx, base, [6]), Tensor.from(ctx, exponent, [6]));
    expectClose(await y.read(), Float64Array.from(base, (v, i) => v ** exponent[i]!), { atol: 0, rtol: 2e-6 }, 'pow');
    y.dispose();
  });

  it('max and min split the gradient of tied operands half and half', async () => {
    const ctx = gpu();
    for (const run of [maximum, minimum]) {
      const graph = new Graph(ctx);
      const a = graph.input('a', [2, 3]);
      const b = graph.input('b', [3]);
      const [da, db] = gradients(sum(run(a, b)), [a, b]);
      const plan = compile(graph, { fetch: [da!, db!] });
      // Row 0 ties b everywhere; row 1 is above b (max takes a, min takes b).
      plan.run({ a: Float32Array.from([1, 2, 3, 5, 6, 7]), b: Float32Array.from([1, 2, 3]) });
      const aWins = run === maximum ? 1 : 0;
      expect(Array.from(await plan.read(da!))).toEqual([0.5, 0.5, 0.5, aWins, aWins, aWins]);
      expect(Array.from(await plan.read(db!))).toEqual([0.5 + 1 - aWins, 0.5 + 1 - aWins, 0.5 + 1 - aWins]);
      plan.dispose();
      graph.dispose();
    }
  });

  it('fails naming the op and both shapes when they do not broadcast', () => {
    const ctx = gpu();
    const a = Tensor.from(ctx, new Float32Array(6).fill(1), [2, 3]);
    const b = Tensor.from(ctx, new Float32Array(4).fill(1), [4]);
    expect(() => div(a, b)).toThrow('div: shapes [2, 3] and [4] do not broadcast (axis -1 has 3 and 4; extents must be equal or 1)');
    expect(() => prelu(b, a)).toThrow('prelu: shapes [4] and [2, 3] do not broadcast');
    const one = Tensor.from(ctx, new Float32Array(2).fill(1), [2, 1]);
    expect(() => prelu(one, a)).toThrow('prelu: slope [2, 3] must broadcast to x [2, 1] without growing it');
    for (const t of [a, b, one]) t.dispose();
  });

  it('fails naming the shapes when seven axes cannot be merged into six', () => {
    const ctx = gpu();
    const aShape = [2, 1, 2, 1, 2, 1, 2];
    const bShape = [1, 2, 1, 2, 1, 2, 1];
    const a = Tensor.from(ctx, new Float32Array(16).fill(1), aShape);
    const b = Tensor.from(ctx, new Float32Array(8).fill(1), bShape);
    expect(() => addBroadcast(a, b)).toThrow('add: [2, 1, 2, 1, 2, 1, 2] with [1, 2, 1, 2, 1, 2, 1] needs 7 axes after merging; the kernel walks at most 6');
    a.dispose();
    b.dispose();
  });
});

/** Float64 reference of repeat: out[c] = factor · x[c mod xShape]. */
function repeatReference(x: Float32Array, xShape: number[], shape: number[], factor: number): Float64Array {
  const aligned = [...new Array<number>(shape.length - xShape.length).fill(1), ...xShape];
  return Float64Array.from({ length: size(shape) }, (_, i) => {
    const c = coordsOf(i, shape);
    let index = 0;
    c.forEach((v, k) => (index = index * aligned[k]! + (v % aligned[k]!)));
    return factor * x[index]!;
  });
}

describe('broadcast.wgsl repeat and sum_repeats', () => {
  const CASES: [number[], number[]][] = [
    [[3, 1], [2, 3, 4]], // numpy broadcast (Expand)
    [[2, 3], [4, 9]], // tile
    [[2, 1, 3], [4, 5, 3]], // tile and broadcast
    [[5], [5]],
    [[1, 1, 1], [3, 4, 5]],
    [[2, 1, 2, 1, 2, 1, 2], [2, 2, 2, 2, 2, 2, 2]], // seven axes, merged
    [[3, 1, 1], [3, 300, 300]], // a 270,000-term reduction per output
  ];
  for (const [small, large] of CASES) {
    it(`repeat ${small} → ${large} and its adjoint sum_repeats match float64`, async () => {
      const ctx = gpu();
      const xv = randomArray(random, size(small));
      const x = Tensor.from(ctx, xv, small);
      const y = repeat(x, large, 0.5);
      expectClose(await y.read(), repeatReference(xv, small, large, 0.5), { atol: 0, rtol: 1.2e-7 }, 'repeat');
      const big = randomArray(random, size(large));
      const z = Tensor.from(ctx, big, large);
      const s = sumRepeats(z, small, 2);
      // sum_repeats is repeat's adjoint: out[j] = 2 · Σ big[i] over i that repeat j.
      const expected = new Float64Array(size(small));
      const scale = new Float64Array(size(small));
      const aligned = [...new Array<number>(large.length - small.length).fill(1), ...small];
      for (let i = 0; i < big.length; i++) {
        const c = coordsOf(i, large);
        let j = 0;
        c.forEach((v, k) => (j = j * aligned[k]! + (v % aligned[k]!)));
        expected[j] += 2 * big[i]!;
        scale[j] += 2 * Math.abs(big[i]!);
      }
      expectClose(await s.read(), expected, { atol: 1e-6 * Math.max(...scale), rtol: 0 }, 'sum_repeats');
      for (const t of [x, y, z, s]) if (t !== x && t !== z) t.dispose();
      x.dispose();
      z.dispose();
    });
  }

  it('gradients of repeat and sum_repeats match central finite differences', async () => {
    await checkGradients(gpu(), ([x]) => repeat(x!, [2, 3, 4], 1.5), [{ name: 'x', shape: [3, 2], data: randomArray(random, 6) }], { samples: 6 });
    await checkGradients(gpu(), ([x]) => sumRepeats(x!, [1, 2], 0.5), [{ name: 'x', shape: [3, 2, 4], data: randomArray(random, 24) }], { samples: 8 });
  });

  it('fails naming both shapes when one is not a whole repeat of the other', () => {
    const x = Tensor.from(gpu(), new Float32Array(6).fill(1), [2, 3]);
    expect(() => repeat(x, [4, 4])).toThrow('repeat: [4, 4] is not [2, 3] repeated a whole number of times along each axis (right-aligned)');
    expect(() => sumRepeats(x, [4])).toThrow('sum_repeats: [2, 3] is not [4] repeated');
    expect(() => repeat(x, [3])).toThrow('repeat: [3] is not [2, 3] repeated');
    x.dispose();
  });
});

describe('broadcast.wgsl slice and unslice', () => {
  it('strided slices (negative steps too) and their gradient match float64', async () => {
    const ctx = gpu();
    const shape = [4, 7, 5];
    const xv = randomArray(random, size(shape));
    const starts = [1, 6, 0];
    const steps = [2, -3, 1];
    const lengths = [2, 3, 5];
    const x = Tensor.from(ctx, xv, shape);
    const y = slice(x, starts, steps, lengths);
    const expected = Float64Array.from({ length: size(lengths) }, (_, i) => {
      const c = coordsOf(i, lengths);
      const src = c.map((v, k) => starts[k]! + v * steps[k]!);
      return xv[(src[0]! * 7 + src[1]!) * 5 + src[2]!]!;
    });
    expectClose(await y.read(), expected, { atol: 0, rtol: 0 }, 'slice');
    x.dispose();
    y.dispose();
    // unslice (the gradient): Σ slice(x) ⊙ r puts r back at the sliced positions, 0 elsewhere.
    const graph = new Graph(ctx);
    const gx = graph.input('x', shape);
    const r = randomArray(random, size(lengths));
    const [dx] = gradients(sum(mul(slice(gx, starts, steps, lengths), graph.constant(r, lengths))), [gx]);
    const plan = compile(graph, { fetch: [dx!] });
    plan.run({ x: xv });
    const want = new Float64Array(size(shape));
    r.forEach((v, i) => {
      const c = coordsOf(i, lengths).map((q, k) => starts[k]! + q * steps[k]!);
      want[(c[0]! * 7 + c[1]!) * 5 + c[2]!] = v;
    });
    expectClose(await plan.read(dx!), want, { atol: 0, rtol: 0 }, 'unslice');
    plan.dispose();
    graph.dispose();
  });

  it('gradient matches central finite differences', async () => {
    await checkGradients(gpu(), ([x]) => slice(x!, [0, 4], [1, -2], [2, 3]), [{ name: 'x', shape: [3, 6], data: randomArray(random, 18) }], { samples: 10 });
  });

  it('fails naming the axis and shape for a slice that does not fit', () => {
    const x = Tensor.from(gpu(), new Float32Array(12).fill(1), [3, 4]);
    expect(() => slice(x, [0, 2], [1, 1], [3, 3])).toThrow('slice: 3 entries from 2 in steps of 1 do not fit axis 1 of [3, 4]');
    expect(() => slice(x, [0, 0], [1, 0], [3, 1])).toThrow('do not fit axis 1');
    expect(() => slice(x, [0], [1], [3])).toThrow('slice: needs a start, step and length per axis of [3, 4]');
    x.dispose();
  });
});

describe('broadcast.wgsl gather_rows', () => {
  it('looks up rows at f32 indices (negative from the end, outside the table: zeros) like float64', async () => {
    const ctx = gpu();
    const [rows, row] = [7, 6];
    const table = randomArray(random, rows * row);
    const ids = Float32Array.from({ length: 300 }, (_, i) => (i % 17) - 8); // −8 … 8: both ends fall outside
    const t = Tensor.from(ctx, table, [rows, 2, 3]);
    const x = Tensor.from(ctx, ids, [3, 100]);
    const y = gatherRows(x, t);
    expect(y.shape).toEqual([3, 100, 2, 3]);
    const expected = Float64Array.from({ length: ids.length * row }, (_, i) => {
      let id = ids[Math.floor(i / row)]!;
      if (id < 0) id += rows;
      return id >= 0 && id < rows ? table[id * row + (i % row)]! : 0;
    });
    expectClose(await y.read(), expected, { atol: 0, rtol: 0 }, 'gather_rows');
    for (const v of [t, x, y]) v.dispose();
  });

  it('has no gradient rule, and says so; a rank-1 table fails naming its shape', async () => {
    const ctx = gpu();
    const graph = new Graph(ctx);
    const ids = graph.input('ids', [2]);
    const table = graph.constant(randomArray(random, 6), [3, 2]);
    expect(() => gradients(sum(gatherRows(ids, table)), [ids])).toThrow("cannot differentiate through 'gather_rows': it has no gradient rule");
    graph.dispose();
    const flat = Tensor.from(ctx, new Float32Array(3).fill(1), [3]);
    expect(() => gatherRows(flat, flat)).toThrow('gather_rows: the table [3] needs rows of at least one value ([rows, ...row])');
    flat.dispose();
  });
});
