import activationsCode from '../../shaders/activations.wgsl';
import { shader } from '../gpu/shader.js';
import { type AnyTensor, apply } from '../graph/apply.js';
import { grid1d, type OpDef } from '../graph/op.js';
import { sizeOf } from '../graph/tensor.js';
import { expectDtype, expectSameShape } from './shape-errors.js';

const activationsShader = shader('activations', activationsCode);

/** The pointwise activations of activations.wgsl, by their kind number there. */
export const ACTIVATION_KINDS = {
  sigmoid: 0,
  tanh: 1,
  leakyRelu: 2,
  elu: 3,
  selu: 4,
  softplus: 5,
  softsign: 6,
  hardSigmoid: 7,
  hardSwish: 8,
  clip: 9,
  neg: 10,
  exp: 11,
  log: 12,
  sqrt: 13,
  abs: 14,
  reciprocal: 15,
  sign: 16,
  floor: 17,
} as const;

export type ActivationName = keyof typeof ACTIVATION_KINDS;

interface ActivationAttrs {
  name: ActivationName;
  alpha: number;
  beta: number;
}

const activationOp: OpDef<ActivationAttrs> = {
  name: 'activation',
  outputs([x], { name }) {
    expectDtype(name, 'x', x!, 'f32');
    return [{ shape: x!.shape, dtype: 'f32' }];
  },
  kernels: ({ inputs: [x], outputs: [y] }, { name, alpha, beta }) => [
    {
      shader: activationsShader,
      entry: 'activation_forward',
      params: { size: sizeOf(x!.shape), kind: ACTIVATION_KINDS[name], alpha, beta },
      buffers: { x: x!, out: y! },
      workgroups: grid1d(sizeOf(x!.shape), 256),
    },
  ],
  grad: ([dy], [x], _outputs, attrs) => [apply(activationBackwardOp, [dy!, x!], attrs)[0]!],
};

/** Inputs: dy, x (the forward input). */
const activationBackwardOp: OpDef<ActivationAttrs> = {
  name: 'activation_backward',
  grad: null,
  outputs([dy, x], { name }) {
    expectSameShape(`${name} backward`, dy!, x!);
    return [{ shape: x!.shape, dtype: 'f32' }];
  },
  kernels: ({ inputs: [dy, x], outputs: [dx] }, { name, alpha, beta }) => [
    {
      shader: activationsShader,
      entry: 'activation_backward',
      params: { size: sizeOf(x!.shape), kind: ACTIVATION_KINDS[name], alpha, beta },
      buffers: { x: x!, dy: dy!, out: dx! },
      workgroups: grid1d(sizeOf(x!.shape), 256),
    },
  ],
};

function activation<T extends AnyTensor>(x: T, name: ActivationName, alpha = 0, beta = 0): T {
  for (const [what, v] of [['alpha', alpha], ['beta', beta]] as const) {
    if (!Number.isFinite(v) && name !== 'clip') throw new Error(`${name}: ${what} must be finite, got ${v}`);
  }
  return apply(activationOp, [x], { name, alpha, beta })[0]! as T;
}

/** 1/(1+e^−x), elementwise (ONNX Sigmoid). @example sigmoid(logits) */
export const sigmoid = <T extends AnyTensor>(x: T): T => activation(x, 'sigmoid');
/** tanh(x), elementwise (ONNX Tanh). */
export const tanh = <T extends AnyTensor>(x: T): T => activation(x, 'tanh');
/** x ≥ 0 ? x : alpha·x (ONNX LeakyRelu, default alpha 0.01). */
export const leakyRelu = <T extends AnyTensor>(x: T, alpha = 0.01): T => activation(x, 'leakyRelu', alpha);
/** x > 0 ? x : alpha·(eˣ − 1) (ONNX Elu, default alpha 1). */
export const elu = <T extends AnyTensor>(x: T, alpha = 1): T => activation(x, 'elu', alpha);
/** ONNX Selu with its default α ≈ 1.6733 and γ ≈ 1.0507. */
export const selu = <T extends AnyTensor>(x: T): T => activation(x, 'selu');
/** log(1 + eˣ), computed without overflow (ONNX Softplus). */
export const softplus = <T extends AnyTensor>(x: T): T => activation(x, 'softplus');
/** x / (1 + |x|) (ONNX Softsign). */
export const softsign = <T extends AnyTensor>(x: T): T => activation(x, 'softsign');
/** clamp(alpha·x + beta, 0, 1) (ONNX HardSigmoid, defaults 0.2 and 0.5). */
export const hardSigmoid = <T extends AnyTensor>(x: T, alpha = 0.2, beta = 0.5): T => activation(x, 'hardSigmoid', alpha, beta);
/** x·clamp(x/6 + ½, 0, 1) (ONNX HardSwish, MobileNetV3). */
export const hardSwish = <T extends AnyTensor>(x: T): T => activation(x, 'hardSwish');

/** −x (ONNX Neg). */
export const neg = <T extends AnyTensor>(x: T): T => activation(x, 'neg');
/** eˣ (ONNX Exp). */
export const exp = <T extends AnyTensor>(x: T): T => activation(x, 'exp');
/** ln x, NaN below 0 (ONNX Log). */
export const log = <T extends AnyTensor>(x: T): T => activation(x, 'log');
/** √x, NaN below 0 (ONNX Sqrt). */
export const sqrt = <T extends AnyTensor>(x: T): T => activation(x, 'sqrt');
/** |x|; its gradient is sign(x), 0 at 0 (ONNX Abs). */
export const abs = <T extends AnyTensor>(x: T): T => activation(x, 'abs');
/** 1/x (ONNX Reciprocal). */
export const reciprocal = <T extends AnyTensor>(x: T): T => activation(x, 'reciprocal');
/** −1, 0 or 1 (ONNX Sign); its gradient is 0. */
export const sign = <T extends AnyTensor>(x: T): T => activation(x, 'sign');
/** ⌊x⌋ (ONNX Floor); its gradient is 0. */
export const floor = <T extends AnyTensor>(x: T): T => activation(x, 'floor');

/**
 * clamp(x, min, max) (ONNX Clip; ReLU6 is clip(x, 0, 6)). The gradient passes where
 * min ≤ x ≤ max.
 * @example clip(x, 0, 6)
 */
export function clip<T extends AnyTensor>(x: T, min = -Infinity, max = Infinity): T {
  if (Number.isNaN(min) || Number.isNaN(max) || min > max) throw new Error(`clip: needs min ≤ max, got min ${min}, max ${max}`);
  // Uniform floats cannot hold ±Infinity portably: use the largest finite f32 instead.
  const f32Max = 3.4028234663852886e38;
  return activation(x, 'clip', Math.max(min, -f32Max), Math.min(max, f32Max));
}
