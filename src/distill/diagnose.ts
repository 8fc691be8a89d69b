// The NaN guard's view of a teacher-student loss: each ingredient by name, so a non-finite
// training loss is traced to the teacher, the student or one of the two loss terms.
import type { SymbolicTensor } from '../graph/symbolic.js';
import { softmaxCrossEntropy } from '../losses/softmax-cross-entropy.js';
import { temperatureKl } from '../losses/temperature-kl.js';
import type { Sequential } from '../nn/sequential.js';

/** Names the diagnoses use, shared by distill and the robust objectives. */
export const DIAGNOSIS_NAMES = {
  teacherLogits: 'teacher logits',
  studentLogits: 'student logits',
  hardLoss: 'hard loss (cross-entropy with the labels)',
  softLoss: 'soft loss (T²·KL(teacher ‖ student))',
} as const;

/**
 * Teacher logits, student logits, hard loss and soft loss on the clean batch (both models in
 * evaluation mode), for Objective.diagnose.
 */
export function teacherStudentDiagnosis(student: Sequential, teacher: Sequential, x: SymbolicTensor, y: SymbolicTensor, temperature: number): Record<string, SymbolicTensor> {
  const teacherLogits = teacher.call(x, { training: false });
  const logits = student.call(x, { training: false });
  return {
    [DIAGNOSIS_NAMES.teacherLogits]: teacherLogits,
    [DIAGNOSIS_NAMES.studentLogits]: logits,
    [DIAGNOSIS_NAMES.hardLoss]: softmaxCrossEntropy(logits, y),
    [DIAGNOSIS_NAMES.softLoss]: temperatureKl(logits, teacherLogits, { temperature }),
  };
}
