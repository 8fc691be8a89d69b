import { Dropout, Flatten, ReLU } from './basic.js';
import { Conv2d } from './conv2d.js';
import { Dense } from './dense.js';
import { MaxPool2d } from './pooling.js';
import { Sequential, sequential } from './sequential.js';

/**
 * The seed CNN: Conv 32 3×3 → ReLU → MaxPool 2 → Flatten → Dense 64 → ReLU → Dense 10
 * (347k parameters on 28×28 inputs). The default student.
 */
export function seedCnn(name = 'student'): Sequential {
  return sequential([new Conv2d(32, { kernel: 3 }), new ReLU(), new MaxPool2d(2), new Flatten(), new Dense(64), new ReLU(), new Dense(10)], { name });
}

/**
 * A bigger CNN teacher: Conv 32 3×3 → ReLU → MaxPool 2 → Conv 64 3×3 → ReLU → MaxPool 2 →
 * Flatten → Dense 256 → ReLU → Dropout 0.3 → Dense 10. Its first conv matches the seed
 * CNN's, so 'relu1' can be hinted without a projection.
 */
export function teacherCnn(name = 'teacher'): Sequential {
  return sequential(
    [
      new Conv2d(32, { kernel: 3 }),
      new ReLU(),
      new MaxPool2d(2),
      new Conv2d(64, { kernel: 3 }),
      new ReLU(),
      new MaxPool2d(2),
      new Flatten(),
      new Dense(256),
      new ReLU(),
      new Dropout(0.3),
      new Dense(10),
    ],
    { name },
  );
}

/** Hinton et al. (2015) MNIST teacher: 784-1200-1200-10 with dropout (20% input, 50% hidden). */
export function hintonTeacher(name = 'teacher'): Sequential {
  return sequential(
    [new Flatten(), new Dropout(0.2), new Dense(1200), new ReLU(), new Dropout(0.5), new Dense(1200), new ReLU(), new Dropout(0.5), new Dense(10)],
    { name },
  );
}

/** Hinton et al. (2015) MNIST student: 784-800-800-10, no regularisation. */
export function hintonStudent(name = 'student'): Sequential {
  return sequential([new Flatten(), new Dense(800), new ReLU(), new Dense(800), new ReLU(), new Dense(10)], { name });
}
