// Elementwise a + b lives in the graph layer because autodiff sums the gradients of an input
// used twice with it; ops/elementwise.ts re-exports it beside the other elementwise ops.
import elementwiseCode from '../../shaders/elementwise.wgsl';
import { shader } from '../gpu/shader.js';
import { type AnyTensor, apply } from './apply.js';
import { grid1d, type OpDef } from './op.js';
import { formatShape, sizeOf } from './tensor.js';

// Same name and code as ops/elementwise.ts's shader, so both share compiled kernels.
const elementwiseShader = shader('elementwise', elementwiseCode);

const addOp: OpDef = {
  name: 'add',
  outputs([a, b]) {
    for (const [what, t] of [['a', a!], ['b', b!]] as const) {
      if (t.dtype !== 'f32') throw new Error(`add: ${what} must be f32, got ${t.dtype} (shape ${formatShape(t.shape)})`);
    }
    if (a!.shape.join() !== b!.shape.join()) throw new Error(`add: shapes must match, got ${formatShape(a!.shape)} and ${formatShape(b!.shape)}`);
    return [{ shape: a!.shape, dtype: 'f32' }];
  },
  kernels: ({ inputs: [a, b], outputs: [c] }) => [
    { shader: elementwiseShader, entry: 'add', params: { size: sizeOf(a!.shape) }, buffers: { x: a!, y: b!, out: c! }, workgroups: grid1d(sizeOf(a!.shape), 256) },
  ],
  grad: ([dc]) => [dc!, dc!],
};

/** a + b elementwise, same shapes (f32). @example const sum = add(x, y); */
export function add<T extends AnyTensor>(a: T, b: T): T {
  return apply(addOp, [a, b], {})[0]!;
}
