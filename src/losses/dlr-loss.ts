import dlrLossCode from '../../shaders/dlr_loss.wgsl';
import { shader } from '../gpu/shader.js';
import { wgslLib } from '../gpu/shader-lib.js';
import { type AnyTensor, apply } from '../graph/apply.js';
import { grid1d, type OpDef } from '../graph/op.js';
import { formatShape, type TensorSpec } from '../graph/tensor.js';
import { scaleRows } from '../ops/elementwise.js';
import { expectDtype, expectRank } from '../ops/shape-errors.js';

const dlrLossShader = shader('dlr_loss', dlrLossCode, wgslLib.grid);

function expectClassIndices(op: string, what: string, t: TensorSpec, logits: TensorSpec): void {
  expectRank(op, what, t, 1);
  expectDtype(op, what, t, 'u32');
  if (t.shape[0] !== logits.shape[0]) throw new Error(`${op}: ${t.shape[0]} ${what} for ${logits.shape[0]} rows of logits ${formatShape(logits.shape)}`);
}

/**
 * Inputs: logits [rows, classes], labels u32 [rows] and, targeted, targets u32 [rows].
 * Outputs: [0] DLR per row [rows]; [1] d(loss row)/d(logits row) [rows, classes], saved for backward.
 */
const dlrLossOp: OpDef = {
  name: 'dlr_loss',
  outputs([logits, labels, targets]) {
    const op = targets ? 'dlr_targeted_loss' : 'dlr_loss';
    expectRank(op, 'logits', logits!, 2);
    expectDtype(op, 'logits', logits!, 'f32');
    const needed = targets ? 4 : 3;
    if (logits!.shape[1]! < needed) throw new Error(`${op}: needs at least ${needed} classes, got logits ${formatShape(logits!.shape)}`);
    expectClassIndices(op, 'labels', labels!, logits!);
    if (targets) expectClassIndices(op, 'targets', targets, logits!);
    return [
      { shape: [logits!.shape[0]!], dtype: 'f32' },
      { shape: logits!.shape, dtype: 'f32' },
    ];
  },
  kernels: ({ inputs: [logits, labels, targets], outputs: [loss, grad] }) => [
    {
      shader: dlrLossShader,
      entry: targets ? 'dlr_targeted_loss' : 'dlr_loss',
      params: { rows: logits!.shape[0]!, classes: logits!.shape[1]! },
      buffers: { logits: logits!, labels: labels!, ...(targets ? { targets } : {}), loss: loss!, grad: grad! },
      workgroups: grid1d(logits!.shape[0]!, 64),
    },
  ],
  // The kernel wrote d(loss_r)/d(logits_r); labels and targets are constants.
  grad: ([dLoss], inputs, [, saved]) => [scaleRows(saved!, dLoss!), ...inputs.slice(1).map(() => undefined)],
};

/**
 * Per-row Difference of Logits Ratio loss (Croce & Hein 2020), [rows], for an attacker to
 * maximise: −(z_y − max_{c≠y} z_c) / (z_π1 − z_π3), with π the classes sorted by logit.
 * With `targets` it is the targeted version: −(z_y − z_t) / (z_π1 − (z_π3 + z_π4)/2).
 * Shifting or scaling the logits leaves it unchanged, so saturated logits cannot hide
 * adversarial directions from it (unlike cross-entropy). Needs ≥ 3 classes (≥ 4 targeted).
 * @example const loss = sum(dlrLossPerRow(logits, labels)); // untargeted
 */
export function dlrLossPerRow<T extends AnyTensor>(logits: T, labels: T, targets?: T): T {
  return apply(dlrLossOp, targets ? [logits, labels, targets] : [logits, labels], {})[0]!;
}
