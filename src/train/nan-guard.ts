import type { GpuContext } from '../gpu/context.js';
import { byteSizeOf, Tensor } from '../graph/tensor.js';

/**
 * A copy of every trained tensor taken on the GPU before each step, so that a step whose
 * loss turns out non-finite can be undone: `save()` queues the copies ahead of the step,
 * `restore()` copies them back. Costs one extra buffer per trained tensor and one
 * buffer-to-buffer copy of each per step.
 */
export class StepSnapshot {
  private readonly pairs: [live: Tensor, copy: Tensor][];

  constructor(private readonly ctx: GpuContext, tensors: Iterable<Tensor>) {
    this.pairs = [...tensors].map((t) => [t, Tensor.empty(ctx, t.shape, t.dtype)]);
  }

  /** Queues a copy of every tensor; it runs before any work submitted after it. */
  save(): void {
    this.copy((live, copy) => [live, copy]);
  }

  /** Queues copying the saved values back into the tensors. */
  restore(): void {
    this.copy((live, copy) => [copy, live]);
  }

  dispose(): void {
    for (const [, copy] of this.pairs) copy.dispose();
  }

  private copy(direction: (live: Tensor, copy: Tensor) => [from: Tensor, to: Tensor]): void {
    const encoder = this.ctx.device.createCommandEncoder({ label: 'step snapshot' });
    for (const [live, copy] of this.pairs) {
      const [from, to] = direction(live, copy);
      encoder.copyBufferToBuffer(from.buffer, 0, to.buffer, 0, byteSizeOf(live));
    }
    this.ctx.device.queue.submit([encoder.finish()]);
  }
}
