import attentionTransferCode from '../../shaders/attention_transfer.wgsl';
import { shader } from '../gpu/shader.js';
import { wgslLib } from '../gpu/shader-lib.js';
import { type AnyTensor, apply } from '../graph/apply.js';
import { grid1d, type KernelCall, type OpDef } from '../graph/op.js';
import { formatShape, type TensorSpec } from '../graph/tensor.js';
import { scale } from '../ops/elementwise.js';
import { expectDtype, expectRank } from '../ops/shape-errors.js';
import { hintLoss } from './hint-loss.js';

const attentionShader = shader('attention_transfer', attentionTransferCode, wgslLib.pairwiseSum, wgslLib.workgroupReduce, wgslLib.grid);

function dims(features: TensorSpec) {
  const [batch, channels, height, width] = features.shape as [number, number, number, number];
  return { batch, channels, positions: height * width };
}

/** Input: features [N, C, H, W]. Outputs: [0] q [N, H·W]; [1] the (clamped) norms ‖Q‖ [N], saved for backward. */
const attentionMapOp: OpDef = {
  name: 'attention_map',
  outputs([features]) {
    expectRank('attention_map', 'features (NCHW)', features!, 4);
    expectDtype('attention_map', 'features', features!, 'f32');
    const { batch, positions } = dims(features!);
    return [
      { shape: [batch, positions], dtype: 'f32' },
      { shape: [batch], dtype: 'f32' },
    ];
  },
  kernels: ({ inputs: [features], outputs: [q, norms] }) => [
    {
      shader: attentionShader,
      entry: 'attention_map',
      params: dims(features!),
      buffers: { features: features!, q: q!, norms: norms! },
      workgroups: grid1d(features!.shape[0]!, 1),
    },
  ],
  grad: ([dq], [features], [q, norms]) => [attentionMapBackward(dq!, features!, q!, norms!)],
};

/** Inputs: dq [N, P], features [N, C, H, W], q [N, P], norms [N]. Outputs: [0] dA; [1] dQ [N, P] (scratch). */
const attentionMapBackwardOp: OpDef = {
  name: 'attention_map_backward',
  grad: null,
  outputs([dq, features, q, norms]) {
    expectRank('attention_map_backward', 'features (NCHW)', features!, 4);
    const { batch, positions } = dims(features!);
    for (const [what, t, shape] of [['dq', dq!, [batch, positions]], ['q', q!, [batch, positions]], ['norms', norms!, [batch]]] as const) {
      if (t.shape.join() !== shape.join()) {
        throw new Error(`attention_map_backward: ${what} must be ${formatShape(shape)} for features ${formatShape(features!.shape)}, got ${formatShape(t.shape)}`);
      }
    }
    return [
      { shape: features!.shape, dtype: 'f32' },
      { shape: [batch, positions], dtype: 'f32' },
    ];
  },
  kernels: ({ inputs: [dq, features, q, norms], outputs: [dFeatures, dPositions] }): KernelCall[] => [
    {
      shader: attentionShader,
      entry: 'attention_map_backward_positions',
      params: dims(features!),
      buffers: { dq: dq!, q_in: q!, norms_in: norms!, d_positions: dPositions! },
      workgroups: grid1d(features!.shape[0]!, 1),
    },
    {
      shader: attentionShader,
      entry: 'attention_map_backward_features',
      params: dims(features!),
      buffers: { features: features!, d_positions: dPositions!, d_features: dFeatures! },
      workgroups: grid1d(dFeatures!.shape.reduce((a, b) => a * b, 1), 256),
    },
  ],
};

function attentionMapBackward<T extends AnyTensor>(dq: T, features: T, q: T, norms: T): T {
  return apply(attentionMapBackwardOp, [dq, features, q, norms], {})[0]!;
}

/**
 * Spatial attention map of a feature map (Zagoruyko & Komodakis): the channel energy
 * Q = Σ_c A_c² at each position, L2-normalised per sample, q = Q / max(‖Q‖₂, 1e-12).
 * [N, C, H, W] -> [N, H·W]. Differentiable (fused forward and backward kernels).
 * @example const q = attentionMap(blockOutput); // [N, 64, 8, 8] -> [N, 64]
 */
export function attentionMap<T extends AnyTensor>(features: T): T {
  return apply(attentionMapOp, [features], {})[0]!;
}

/**
 * Attention-transfer loss between student and teacher feature maps, as a [1] tensor:
 * the batch mean of the squared L2 distance ‖q_s − q_t‖₂² between their attention maps
 * (see attentionMap). The paper writes (β/2)·‖q_s − q_t‖₂ per layer pair; its released
 * code, like this function, uses the square (this equals theirs times H·W). Channel counts
 * may differ; batch and spatial size must match. The teacher is a constant.
 * @example const loss = attentionTransferLoss(studentBlock, teacherBlock);
 */
export function attentionTransferLoss<T extends AnyTensor>(student: T, teacher: T): T {
  const [sn, , sh, sw] = student.shape;
  const [tn, , th, tw] = teacher.shape;
  if (student.shape.length !== 4 || teacher.shape.length !== 4 || sn !== tn || sh !== th || sw !== tw) {
    throw new Error(
      `attention_transfer: student ${formatShape(student.shape)} and teacher ${formatShape(teacher.shape)} must both be NCHW with the same N, H and W (channels may differ)`,
    );
  }
  const positions = sh! * sw!;
  return scale(hintLoss(attentionMap(student), attentionMap(teacher)), positions);
}
