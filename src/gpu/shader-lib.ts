import gridCode from '../../shaders/lib/grid.wgsl';
import logSumExpCode from '../../shaders/lib/log_sum_exp.wgsl';
import lossScaleStateCode from '../../shaders/lib/loss_scale_state.wgsl';
import numbersCode from '../../shaders/lib/numbers.wgsl';
import operandF16Code from '../../shaders/lib/operand_f16.wgsl';
import operandF32Code from '../../shaders/lib/operand_f32.wgsl';
import pairwiseSumCode from '../../shaders/lib/pairwise_sum.wgsl';
import randomCode from '../../shaders/lib/random.wgsl';
import workgroupReduceCode from '../../shaders/lib/workgroup_reduce.wgsl';

/**
 * The WGSL parts in shaders/lib/ that several kernels share, to pass to `shader(name, code,
 * ...parts)` after the entry file's code. Each part's header says what it needs from the
 * including shader (e.g. `WG` and `alias ReduceValue` for the workgroup reductions).
 * @example const reduceShader = shader('reduce', reduceCode, wgslLib.workgroupReduce);
 */
export const wgslLib = {
  /** grid_index, grid_group: indices in dispatch grids folded into 2-D past 65535 workgroups. */
  grid: gridCode,
  /** LOWEST_F32, nan_f32. */
  numbers: numbersCode,
  /** PairwiseSum, pairwise_add, pairwise_total: one invocation's pairwise summation. */
  pairwiseSum: pairwiseSumCode,
  /** segment_reduce, workgroup_sum, workgroup_max: tree reductions in workgroup memory. */
  workgroupReduce: workgroupReduceCode,
  /** lse_max, lse_exp_sums, lse_finish: max-subtracted log-sum-exp over a row (needs numbers). */
  logSumExp: logSumExpCode,
  /** pcg4d, a counter-based hash for reproducible random numbers. */
  random: randomCode,
  /** alias Operand = f32 (and Operand4): gemm.wgsl's operand type for f32 A and B. */
  operandF32: operandF32Code,
  /** alias Operand = f16 (and Operand4): gemm.wgsl's operand type for f16 A and B (needs `enable f16`). */
  operandF16: operandF16Code,
  /** struct LossScale: the dynamic loss scale's state (loss_scale.wgsl keeps it, the optimizers' *_scaled entries read it). */
  lossScaleState: lossScaleStateCode,
} as const;
