#!/usr/bin/env node
// The `kdgpu` command.
import { checkKnown, numberOption, parseArgs } from './args.js';
import { DEMO_DEFAULTS, runDemo } from './demo.js';

const HELP = `kdgpu — knowledge distillation and robustness on WebGPU

Usage:
  kdgpu demo [options]     train a teacher CNN, the seed CNN alone, distilled (KD) and
                           distilled with a feature hint on MNIST; evaluate on the test set;
                           write OUT/results.json and OUT/report.html
  kdgpu help               this text

Demo options:
  --quick                  a small run: 4,000 training images, 1 epoch each (a few minutes)
  --out DIR                output folder (default ${DEMO_DEFAULTS.out})
  --epochs N               epochs for the teacher and each student
  --teacher-epochs N       (default ${DEMO_DEFAULTS.teacherEpochs})
  --student-epochs N       (default ${DEMO_DEFAULTS.studentEpochs})
  --temperature T          softmax temperature for KD (default ${DEMO_DEFAULTS.temperature})
  --alpha A                weight of the hard loss in KD, in [0, 1] (default ${DEMO_DEFAULTS.alpha})
  --beta B                 weight of the feature-hint loss (default ${DEMO_DEFAULTS.beta})
  --batch N                batch size (default ${DEMO_DEFAULTS.batchSize})
  --lr R                   Adam learning rate, halved every epoch (default ${DEMO_DEFAULTS.learningRate})
  --seed S                 seed for weights, data order and augmentation (default ${DEMO_DEFAULTS.seed})
  --train-images N         use the first N training images (default all 55,000; 4,000 with --quick)
  --test-images N          evaluate on the first N test images (default all 10,000; 2,000 with --quick)
`;

function optionalInteger(args: ReturnType<typeof parseArgs>, name: string): number | undefined {
  return args.options.has(name) ? numberOption(args, name, 0, { min: 1, max: 1e7, integer: true }) : undefined;
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv, new Set(['quick', 'help']));
  if (!args.command || args.command === 'help' || args.flags.has('help')) {
    process.stdout.write(HELP);
    return args.command && args.command !== 'help' && !args.flags.has('help') ? 1 : 0;
  }
  if (args.command === 'demo') {
    checkKnown(args, ['quick', 'out', 'epochs', 'teacher-epochs', 'student-epochs', 'temperature', 'alpha', 'beta', 'batch', 'lr', 'seed', 'train-images', 'test-images']);
    const quick = args.flags.has('quick');
    const epochs = numberOption(args, 'epochs', quick ? 1 : NaN, { min: 1, max: 1000, integer: true });
    await runDemo({
      quick,
      out: args.options.get('out') ?? DEMO_DEFAULTS.out,
      seed: numberOption(args, 'seed', DEMO_DEFAULTS.seed, { min: 0, max: 2 ** 31, integer: true }),
      teacherEpochs: numberOption(args, 'teacher-epochs', Number.isNaN(epochs) ? DEMO_DEFAULTS.teacherEpochs : epochs, { min: 1, max: 1000, integer: true }),
      studentEpochs: numberOption(args, 'student-epochs', Number.isNaN(epochs) ? DEMO_DEFAULTS.studentEpochs : epochs, { min: 1, max: 1000, integer: true }),
      batchSize: numberOption(args, 'batch', DEMO_DEFAULTS.batchSize, { min: 1, max: 4096, integer: true }),
      temperature: numberOption(args, 'temperature', DEMO_DEFAULTS.temperature, { min: 1e-3, max: 1000 }),
      alpha: numberOption(args, 'alpha', DEMO_DEFAULTS.alpha, { min: 0, max: 1 }),
      beta: numberOption(args, 'beta', DEMO_DEFAULTS.beta, { min: 0, max: 1e6 }),
      learningRate: numberOption(args, 'lr', DEMO_DEFAULTS.learningRate, { min: 1e-8, max: 10 }),
      trainImages: optionalInteger(args, 'train-images'),
      testImages: optionalInteger(args, 'test-images'),
    });
    return 0;
  }
  process.stderr.write(`kdgpu: unknown command '${args.command}'\n\n${HELP}`);
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`kdgpu: ${error.message}\n`);
    process.exit(1);
  },
);
