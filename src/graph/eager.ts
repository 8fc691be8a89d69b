import { encodeCalls, prepareCall } from './encode.js';
import { checkF16Inputs, type OpDef } from './op.js';
import { byteSizeOf, Tensor, type TensorSpec } from './tensor.js';

/**
 * Runs one op immediately: allocates its outputs from the pool, encodes its kernels and
 * submits. The same op definitions serve compiled plans; this path is for tests and
 * small jobs.
 */
export function executeEager<A>(op: OpDef<A>, inputs: readonly Tensor[], attrs: A): Tensor[] {
  if (inputs.length === 0) throw new Error(`${op.name}: needs at least one input tensor`);
  const ctx = inputs[0]!.ctx;
  for (const t of inputs) if (t.ctx !== ctx) throw new Error(`${op.name}: inputs come from different GPU contexts`);
  ctx.check();
  checkF16Inputs(op, inputs);
  const outputs = op.outputs(inputs, attrs).map((s) => Tensor.empty(ctx, s.shape, s.dtype));
  for (const t of outputs) ctx.poisonBuffer(t.buffer, byteSizeOf(t));
  const bufferOf = (spec: TensorSpec) => {
    if (spec instanceof Tensor) return spec.buffer;
    throw new Error(`${op.name}: a kernel referred to a tensor that is not one of its inputs or outputs`);
  };
  const calls = op.kernels({ inputs, outputs }, attrs, ctx).map((c) => prepareCall(ctx, c, bufferOf));
  const encoder = ctx.device.createCommandEncoder({ label: op.name });
  const pass = encoder.beginComputePass();
  encodeCalls(pass, calls);
  pass.end();
  ctx.device.queue.submit([encoder.finish()]);
  for (const c of calls) if (c.paramsBuffer) ctx.pool.release(c.paramsBuffer);
  return outputs;
}
