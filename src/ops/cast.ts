import castCode from '../../shaders/cast.wgsl';
import { wgslLib } from '../gpu/shader-lib.js';
import { shader } from '../gpu/shader.js';
import { type AnyTensor, apply } from '../graph/apply.js';
import { grid1d, type OpDef } from '../graph/op.js';
import { sizeOf, type TensorSpec } from '../graph/tensor.js';
import { expectDtype } from './shape-errors.js';

const castShader = shader('cast', castCode, wgslLib.grid);

// Rounding to f16 is treated as the identity in the backward pass (its derivative is 1 almost
// everywhere), so the gradient of an f16 tensor is an f32 tensor of its shape.
const castF16Op: OpDef = {
  name: 'cast_f16',
  outputs([x]) {
    expectDtype('castF16', 'x', x!, 'f32');
    return [{ shape: x!.shape, dtype: 'f16' }];
  },
  kernels: ({ inputs: [x], outputs: [y] }) => [
    { shader: castShader, entry: 'f32_to_f16', params: { size: sizeOf(x!.shape) }, buffers: { x: x!, out: y! }, workgroups: grid1d(Math.ceil(sizeOf(x!.shape) / 2), 256) },
  ],
  grad: ([dy]) => [dy!],
};

const castF32Op: OpDef = {
  name: 'cast_f32',
  acceptsF16: true,
  outputs([x]) {
    expectDtype('castF32', 'x', x!, 'f16');
    return [{ shape: x!.shape, dtype: 'f32' }];
  },
  kernels: ({ inputs: [x], outputs: [y] }) => [
    { shader: castShader, entry: 'f16_to_f32', params: { size: sizeOf(x!.shape) }, buffers: { x: x!, out: y! }, workgroups: grid1d(Math.ceil(sizeOf(x!.shape) / 2), 256) },
  ],
  grad: ([dy]) => [dy!],
};

/**
 * The f32 tensor `x` rounded to f16 (nearest, ties to even; ±∞ from 65520 up, as IEEE rounding
 * gives, so that loss scaling sees overflows). Half the memory; matmul and linear read it.
 * Its gradient passes through unchanged (as f32).
 * @example const w16 = castF16(w);
 */
export function castF16<T extends AnyTensor>(x: T): T {
  return apply(castF16Op, [x], {})[0]!;
}

/**
 * `t` (an f32 gradient) rounded to f16 when `like` (the other operand of a GEMM-like op) is
 * f16, else `t`: the backward passes of f16 matmul, linear and conv2d run on f16 copies of
 * the incoming gradient, as frameworks' mixed precision does (this is where loss scaling keeps
 * small gradients from flushing to zero).
 * @example const dz16 = castLike(dz, x16);
 */
export function castLike<T extends AnyTensor>(t: T, like: TensorSpec): T {
  return like.dtype === 'f16' && t.dtype !== 'f16' ? castF16(t) : t;
}

/** The f16 tensor `x` as f32 (exact). @example const values = castF32(h16); */
export function castF32<T extends AnyTensor>(x: T): T {
  return apply(castF32Op, [x], {})[0]!;
}
