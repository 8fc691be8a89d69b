// TF.js's op chain for the loss kdgpu fuses into one kernel (src/losses/temperature-kl.ts):
//   α·CE(softmax(s), y) + (1 − α)·T²·mean over rows of Σ_c softmax(t/T)·(log softmax(t/T) − log softmax(s/T))
import type * as Tf from '@tensorflow/tfjs';
import type { TfModule } from '../device.js';

export const TEMPERATURE = 4;
export const HARD_WEIGHT = 0.5;

/** Same conventions as kdgpu's temperatureKl: KL summed over classes, mean over rows, × T²; α weights the hard loss. */
export function tfDistillationLoss(tf: TfModule, student: Tf.Tensor2D, teacher: Tf.Tensor2D, oneHot: Tf.Tensor2D): Tf.Scalar {
  const hard = tf.losses.softmaxCrossEntropy(oneHot, student);
  const logStudent = tf.logSoftmax(tf.div(student, TEMPERATURE));
  const logTeacher = tf.logSoftmax(tf.div(teacher, TEMPERATURE));
  const kl = tf.mean(tf.sum(tf.mul(tf.exp(logTeacher), tf.sub(logTeacher, logStudent)), 1));
  return tf.add(tf.mul(hard, HARD_WEIGHT), tf.mul(kl, (1 - HARD_WEIGHT) * TEMPERATURE * TEMPERATURE)) as Tf.Scalar;
}
