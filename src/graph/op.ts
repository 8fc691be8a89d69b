import type { GpuContext } from '../gpu/context.js';
import type { Shader } from '../gpu/shader.js';
import type { SymbolicTensor } from './symbolic.js';
import type { TensorSpec } from './tensor.js';

/** One dispatch of one entry point. Buffers are named as the shader names its bindings. */
export interface KernelCall {
  shader: Shader;
  entry: string;
  /** WGSL override constants; each distinct set is its own cached pipeline. */
  constants?: Record<string, number>;
  /** Values for the shader's `params` uniform struct, by field name. */
  params?: Record<string, number>;
  /** Binding name -> one of the op's inputs or outputs (by identity). */
  buffers: Record<string, TensorSpec>;
  workgroups: readonly [number, number?, number?];
}

export interface OpIO {
  inputs: readonly TensorSpec[];
  outputs: readonly TensorSpec[];
}

/**
 * Everything about one op in one place: its output shapes (the shape rule, which throws
 * with the offending shapes), its kernels, and its gradient rule written with other ops.
 */
export interface OpDef<A = Record<string, never>> {
  name: string;
  outputs(inputs: readonly TensorSpec[], attrs: A): TensorSpec[];
  kernels(io: OpIO, attrs: A, ctx: GpuContext): KernelCall[];
  /**
   * Gradients of the inputs from the gradients of the outputs (undefined where an output
   * has no gradient flowing in). Return undefined for inputs that are not differentiable.
   * Required: `null` says the op has no gradient rule (optimizer updates, metrics, attack
   * steps), so the type checker lists every op that has not decided.
   */
  grad:
    | ((
        outputGrads: readonly (SymbolicTensor | undefined)[],
        inputs: readonly SymbolicTensor[],
        outputs: readonly SymbolicTensor[],
        attrs: A,
      ) => (SymbolicTensor | undefined)[])
    | null;
  /**
   * Optional peephole for ReLU's backward pass: `reluBackward(dy, y)` on a dy that this op
   * made (its output 0, from `inputs`) asks for dy·(y > 0) as one node of its own, e.g.
   * max-pool backward over a ReLU's output masks at the pooled values and spares a pass
   * over the map. Undefined when it cannot (another y, a kernel without the mask); the
   * unmasked node, then unused, is left out of compiled plans.
   */
  reluMasked?: (inputs: readonly SymbolicTensor[], attrs: A, y: SymbolicTensor) => SymbolicTensor | undefined;
  /**
   * Output 0 is input 0's values in the same order (reshape): compiled plans give it input
   * 0's buffer and run no kernel, where that is safe (see viewRoots in plan.ts); eager runs
   * the kernels.
   */
  view?: boolean;
  /** Indices of inputs the op writes in place (optimizer updates); such nodes always run. */
  mutates?: readonly number[];
  /**
   * True for the few ops whose kernels read f16 tensors (casts, matmul, linear, the conv2d
   * passes but the bias gradient). Others are
   * refused f16 inputs when they are applied (checkF16Inputs), rather than reading packed
   * halves as f32.
   */
  acceptsF16?: boolean;
}

/** Throws when an op that does not take f16 tensors gets one (see OpDef.acceptsF16). */
export function checkF16Inputs(op: OpDef<any>, inputs: readonly TensorSpec[]): void {
  if (op.acceptsF16) return;
  const index = inputs.findIndex((t) => t.dtype === 'f16');
  if (index < 0) return;
  throw new Error(
    `${op.name}: input ${index} is f16 ([${inputs[index]!.shape.join(', ')}]), but only castF32, matmul, linear and the conv2d passes take f16 tensors; ` +
      'cast it back with castF32 first',
  );
}

/** Workgroup counts for `count` invocations in groups of `size`, folded into 2D past 65535. */
export function grid1d(count: number, size: number, maxPerDim = 65535): [number, number] {
  const groups = Math.ceil(count / size);
  if (groups <= maxPerDim) return [groups, 1];
  const y = Math.ceil(groups / maxPerDim);
  return [Math.ceil(groups / y), y];
}
