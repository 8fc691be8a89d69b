import temperatureKlMathCode from '../../shaders/lib/temperature_kl_math.wgsl';
import temperatureKlCode from '../../shaders/temperature_kl.wgsl';
import type { AdapterKind } from '../gpu/adapter-kind.js';
import { shader } from '../gpu/shader.js';
import { wgslLib } from '../gpu/shader-lib.js';
import { type AnyTensor, apply } from '../graph/apply.js';
import { grid1d, type KernelCall, type OpDef } from '../graph/op.js';
import { formatShape } from '../graph/tensor.js';
import { scaleRows } from '../ops/elementwise.js';
import { mean } from '../ops/reduce.js';
import { expectDtype, expectRank, expectSameShape } from '../ops/shape-errors.js';
import { checkTemperature, checkUnitWeight, HARD_WEIGHT_RENAMED, refuseRenamedOptions } from './loss-options.js';

const temperatureKlShader = shader(
  'temperature_kl',
  temperatureKlCode,
  temperatureKlMathCode,
  wgslLib.pairwiseSum,
  wgslLib.workgroupReduce,
  wgslLib.numbers,
  wgslLib.grid,
);

/** Up to this many classes one invocation handles a row; above, a group of invocations does. */
const SERIAL_MAX_CLASSES = 64;
const SERIAL_ROWS_PER_GROUP = 64;

const WORKGROUP_SIZE = 256;
/** Classes per invocation the group variant aims for on a GPU (lanes per row: a power of two, 8..256). */
const CLASSES_PER_LANE = 32;
/** Lanes per row on a software adapter (one row per workgroup of 8, lavapipe's SIMD width). */
const SOFTWARE_LANES = 8;

/**
 * Lanes per row and invocations per workgroup for the group entries. On a GPU, enough lanes
 * for ~32 classes each (8..256) and workgroups of 256. On lavapipe (measured in
 * bench/NOTES.md, "Fused KL rewrite") lanes beyond its 8-wide SIMD only add barriers, and a
 * workgroup per row spreads rows over its threads.
 */
function groupShape(classes: number, tuning: AdapterKind): { lanes: number; size: number } {
  if (tuning === 'software') return { lanes: SOFTWARE_LANES, size: SOFTWARE_LANES };
  const wanted = 2 ** Math.ceil(Math.log2(Math.ceil(classes / CLASSES_PER_LANE)));
  return { lanes: Math.min(WORKGROUP_SIZE, Math.max(8, wanted)), size: WORKGROUP_SIZE };
}

interface TemperatureKlAttrs {
  temperature: number;
  hardWeight: number;
}

export interface TemperatureKlOptions<T extends AnyTensor> {
  /** Softmax temperature T > 0 (applied to teacher and student); the soft loss is scaled by T². */
  temperature: number;
  /** Weight of the hard cross-entropy with `labels`, in [0, 1]; the soft KL gets 1 − hardWeight. Default 0. */
  hardWeight?: number;
  /** u32 [batch] class indices; needed when hardWeight > 0. */
  labels?: T;
}

/**
 * Inputs: student [rows, classes], teacher [rows, classes], optional labels u32 [rows].
 * Outputs: [0] loss per row [rows]; [1] d(loss row)/d(student row) [rows, classes], saved for backward.
 */
const temperatureKlOp: OpDef<TemperatureKlAttrs> = {
  name: 'temperature_kl',
  outputs([student, teacher, labels]) {
    expectRank('temperature_kl', 'student logits', student!, 2);
    expectDtype('temperature_kl', 'student logits', student!, 'f32');
    expectDtype('temperature_kl', 'teacher logits', teacher!, 'f32');
    expectSameShape('temperature_kl', student!, teacher!);
    if (labels) {
      expectRank('temperature_kl', 'labels', labels, 1);
      expectDtype('temperature_kl', 'labels', labels, 'u32');
      if (labels.shape[0] !== student!.shape[0]) {
        throw new Error(`temperature_kl: ${labels.shape[0]} labels for ${student!.shape[0]} rows of logits ${formatShape(student!.shape)}`);
      }
    }
    return [
      { shape: [student!.shape[0]!], dtype: 'f32' },
      { shape: student!.shape, dtype: 'f32' },
    ];
  },
  kernels({ inputs: [student, teacher, labels], outputs: [loss, grad] }, { temperature, hardWeight }, ctx): KernelCall[] {
    const [rows, classes] = student!.shape as [number, number];
    // With hardWeight = 0 the labels are not read at all (pure distillation).
    const labelled = hardWeight > 0;
    const suffix = labelled ? '_labelled' : '';
    // The shader's uniform `alpha` is the hard weight (Hinton's α).
    const params = { rows, classes, temperature, alpha: hardWeight };
    const buffers = { student: student!, teacher: teacher!, loss: loss!, grad: grad!, ...(labelled ? { labels: labels! } : {}) };
    if (classes <= SERIAL_MAX_CLASSES) {
      return [{ shader: temperatureKlShader, entry: `temperature_kl_rows${suffix}`, params, buffers, workgroups: grid1d(rows, SERIAL_ROWS_PER_GROUP) }];
    }
    // Classes % 4 = 0: the same buffers bound as array<vec4f> (a quarter of the loads and stores).
    const packed = classes % 4 === 0;
    const { lanes, size } = groupShape(classes, ctx.profile.adapterKind);
    return [
      {
        shader: temperatureKlShader,
        entry: `temperature_kl_group${packed ? '4' : ''}${suffix}`,
        constants: { LANES: lanes, WG: size },
        params,
        buffers: packed ? { student4: student!, teacher4: teacher!, loss: loss!, grad4: grad!, ...(labelled ? { labels: labels! } : {}) } : buffers,
        workgroups: grid1d(rows, size / lanes),
      },
    ];
  },
  // The kernel already wrote d(loss_r)/d(student_r); teachers (and labels) are constants.
  grad: ([dLoss], _inputs, [, saved]) => [scaleRows(saved!, dLoss!), undefined, undefined],
};

function checkOptions<T extends AnyTensor>(options: TemperatureKlOptions<T>): void {
  refuseRenamedOptions('temperature_kl', options, HARD_WEIGHT_RENAMED);
  const { temperature, hardWeight = 0, labels } = options;
  checkTemperature('temperature_kl', temperature);
  checkUnitWeight('temperature_kl', 'hardWeight', hardWeight, 'the hard loss');
  if (hardWeight > 0 && !labels) {
    throw new Error(`temperature_kl: hardWeight = ${hardWeight} weights a hard cross-entropy, which needs labels; pass labels or use hardWeight = 0`);
  }
}

/**
 * Per-row distillation loss, [rows]: (1 − h)·T²·KL(softmax(t/T) ‖ softmax(s/T)) + h·CE(softmax(s), y)
 * with h = hardWeight,
 * KL summed over classes. See {@link temperatureKl} for the conventions.
 * @example const perRow = temperatureKlPerRow(studentLogits, teacherLogits, { temperature: 4 });
 */
export function temperatureKlPerRow<T extends AnyTensor>(student: T, teacher: T, options: TemperatureKlOptions<T>): T {
  checkOptions(options);
  const { temperature, hardWeight = 0, labels } = options;
  const inputs = labels ? [student, teacher, labels] : [student, teacher];
  return apply(temperatureKlOp, inputs, { temperature, hardWeight })[0]!;
}

/**
 * Hinton's distillation loss, as a [1] tensor:
 *   mean over rows of  (1 − h)·T²·KL(softmax(teacher/T) ‖ softmax(student/T)) + h·CE(softmax(student), labels)
 * KL is summed over classes and averaged over the batch; the T² factor keeps the soft
 * gradients' scale independent of T. h = `hardWeight` weights the HARD loss (Hinton's α):
 * h = 0 (the default) is pure distillation and needs no labels, h = 1 is plain cross-entropy. The teacher is a
 * constant: no gradient flows into it. One fused kernel per batch computes the loss and
 * d loss / d student (numerically stable for any T > 0 and logits of any size).
 * @example const loss = temperatureKl(studentLogits, teacherLogits, { temperature: 4, hardWeight: 0.1, labels });
 */
export function temperatureKl<T extends AnyTensor>(student: T, teacher: T, options: TemperatureKlOptions<T>): T {
  return mean(temperatureKlPerRow(student, teacher, options));
}
