import marginLossCode from '../../shaders/margin_loss.wgsl';
import { shader } from '../gpu/shader.js';
import { wgslLib } from '../gpu/shader-lib.js';
import { type AnyTensor, apply } from '../graph/apply.js';
import { grid1d, type OpDef } from '../graph/op.js';
import { formatShape } from '../graph/tensor.js';
import { scaleRows } from '../ops/elementwise.js';
import { mean } from '../ops/reduce.js';
import { expectDtype, expectRank } from '../ops/shape-errors.js';

const marginLossShader = shader('margin_loss', marginLossCode, wgslLib.numbers, wgslLib.grid);

/** Outputs: [0] margin per row [rows]; [1] d(margin row)/d(logits) [rows, classes], saved for backward. */
export const marginLossOp: OpDef = {
  name: 'margin_loss',
  outputs([logits, labels]) {
    expectRank('margin_loss', 'logits', logits!, 2);
    expectRank('margin_loss', 'labels', labels!, 1);
    expectDtype('margin_loss', 'logits', logits!, 'f32');
    expectDtype('margin_loss', 'labels', labels!, 'u32');
    if (logits!.shape[1]! < 2) throw new Error(`margin_loss: needs at least 2 classes, got logits ${formatShape(logits!.shape)}`);
    if (labels!.shape[0] !== logits!.shape[0]) {
      throw new Error(`margin_loss: ${labels!.shape[0]} labels for ${logits!.shape[0]} rows of logits ${formatShape(logits!.shape)}`);
    }
    return [
      { shape: [logits!.shape[0]!], dtype: 'f32' },
      { shape: logits!.shape, dtype: 'f32' },
    ];
  },
  kernels: ({ inputs: [logits, labels], outputs: [loss, grad] }) => [
    {
      shader: marginLossShader,
      entry: 'margin_loss',
      params: { rows: logits!.shape[0]!, classes: logits!.shape[1]! },
      buffers: { logits: logits!, labels: labels!, loss: loss!, grad: grad! },
      workgroups: grid1d(logits!.shape[0]!, 1),
    },
  ],
  // The kernel wrote d(margin_r)/d(logits_r) (+1 runner-up, −1 label); scale by the incoming gradient.
  grad: ([dLoss], _inputs, [, saved]) => [scaleRows(saved!, dLoss!), undefined],
};

/**
 * Per-row Carlini–Wagner margin, [rows]: max_{c ≠ y} z_c − z_y. Positive exactly when the
 * row is misclassified; its gradient is +1 at the strongest wrong class and −1 at the label.
 * @example const margins = marginLossPerRow(logits, labels);
 */
export function marginLossPerRow<T extends AnyTensor>(logits: T, labels: T): T {
  return apply(marginLossOp, [logits, labels], {})[0]!;
}

/**
 * Mean Carlini–Wagner margin over rows, as a [1] tensor: mean_r (max_{c ≠ y_r} z_rc − z_r,y_r).
 * An attack maximises it. Because its gradient is ±1 on two logits whatever their scale, it
 * does not vanish when softmax saturates (where cross-entropy's does: gradient masking).
 * @example const loss = marginLoss(logits, labels);
 */
export function marginLoss<T extends AnyTensor>(logits: T, labels: T): T {
  return mean(marginLossPerRow(logits, labels));
}
