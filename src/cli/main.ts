#!/usr/bin/env node
// The `kdgpu` command.
import { checkKnown, checkOptionNames, numberOption, parseArgs } from './args.js';
import { DISTILLATION_DEFAULTS, distillationWeights } from '../distill/options.js';
import { DEMO_DEFAULTS, DEMO_QUICK, DEMO_QUICK_ROBUSTNESS, DEMO_ROBUSTNESS, runDemo } from './demo.js';
import { DISTILL_DEFAULTS, runDistillCommand } from './distill-command.js';
import { ROBUSTNESS_DEFAULTS, ROBUSTNESS_QUICK, runRobustnessCommand } from './robustness-command.js';

const HELP = `kdgpu — knowledge distillation and robustness on WebGPU

Usage:
  kdgpu demo [options]     distil the shipped MNIST teacher (or train one: --train-teacher)
                           into the seed CNN: the seed CNN alone, distilled (KD) and
                           distilled with a feature hint; evaluate on the test set, with a
                           paired significance test of KD against the student alone;
                           write OUT/results.json and OUT/report.html; then distil the
                           shipped robust teacher into the seed CNN by ARD and RSLAD and
                           evaluate both teachers, the student alone, KD, ARD and RSLAD for
                           robustness (OUT/robustness.json and OUT/robustness.html)
  kdgpu robustness [options]
                           train (or --load) a teacher CNN, the seed CNN alone, by KD and by
                           ARD (adversarially robust distillation); evaluate clean accuracy,
                           FGSM/PGD accuracy vs ε with sanity checks, MNIST-C corruption error
                           and calibration; write OUT/robustness.json and OUT/robustness.html
  kdgpu distill --teacher FILE.onnx [options]
                           import a teacher (e.g. exported by torch.onnx.export) and distil
                           the seed CNN from it on MNIST; write OUT/distill.json and, with
                           --export-onnx, the student as ONNX
  kdgpu help               this text

Demo options:
  --quick                  a small run: ${DEMO_QUICK.trainImages} training images, batch ${DEMO_QUICK.batchSize}, ${DEMO_QUICK.studentEpochs} epochs per student
                           (learning rate ×${DEMO_QUICK.learningRateDecay} per epoch), ARD and RSLAD for ${DEMO_QUICK.ardEpochs} (under 10 minutes)
  --out DIR                output folder (default ${DEMO_DEFAULTS.out})
  --train-teacher          train the teacher CNN from scratch instead of loading the shipped
                           'mnist-teacher' (models/mnist-teacher.json says how it was made);
                           ARD then distils that teacher (not robust), and no RSLAD student
  --epochs N               epochs for each student (and the teacher with --train-teacher)
  --teacher-epochs N       with --train-teacher (default ${DEMO_DEFAULTS.teacherEpochs})
  --student-epochs N       (default ${DEMO_DEFAULTS.studentEpochs})
  --temperature T          softmax temperature for KD (default ${DEMO_DEFAULTS.temperature})
  --hard-weight H          weight of the hard loss (cross-entropy with the labels) in KD and
                           ARD, in [0, 1]; the soft loss gets 1 − H (default ${DEMO_DEFAULTS.hardWeight})
  --hint-weight W          weight of the feature-hint loss (default ${DEMO_DEFAULTS.hintWeight})
  --batch N                batch size (default ${DEMO_DEFAULTS.batchSize})
  --lr R                   Adam learning rate, halved every epoch (×${DEMO_QUICK.learningRateDecay} with --quick) (default ${DEMO_DEFAULTS.learningRate})
  --seed S                 seed for weights, data order and augmentation (default ${DEMO_DEFAULTS.seed})
  --train-images N         use the first N training images (default all 55,000; 4,000 with --quick)
  --test-images N          evaluate on the first N test images (default all 10,000; 2,000 with --quick)
  --export-onnx FILE       also write the KD student as an ONNX model (opset 13) to FILE
  --no-robustness          skip the robustness evaluation (and the ARD and RSLAD students)
  --attack-images N, --pgd-steps N, --restarts N, --train-epsilon E, --train-steps N
                           robustness settings, as for \`kdgpu robustness\` (the ARD and RSLAD
                           students train for --student-epochs from 'mnist-robust-teacher'; the demo
                           attacks ${DEMO_ROBUSTNESS.attackImages} images with PGD-${DEMO_ROBUSTNESS.pgdSteps} by default, ${DEMO_QUICK_ROBUSTNESS.attackImages} with PGD-${DEMO_QUICK_ROBUSTNESS.pgdSteps}
                           with --quick (a glance, weaker than \`kdgpu robustness\`), on the first
                           ${ROBUSTNESS_QUICK.testImages} test images with --quick; no AutoAttack)

Robustness options:
  --quick                  ${ROBUSTNESS_QUICK.trainImages} training, ${ROBUSTNESS_QUICK.testImages} test images, ${ROBUSTNESS_QUICK.epochs} epoch, ARD with PGD-${ROBUSTNESS_QUICK.trainSteps};
                           the same attacks as a full run on the first ${ROBUSTNESS_QUICK.attackImages} test images
                           (not weaker, only noisier: the report gives the 95 % interval)
  --out DIR                output folder (default ${ROBUSTNESS_DEFAULTS.out})
  --save DIR               save the trained models as DIR/<model>.safetensors
  --load DIR               load the models saved by --save instead of training them
  --robust-teacher         Madry-train the teacher (PGD on its cross-entropy); by default
                           it is trained plainly and ARD distils from a non-robust teacher
  --attack-images N        attack the first N test images (default 1,000)
  --pgd-steps N            PGD steps (default 40)
  --relative-step-size R   PGD step size α = R·ε (default 2.5/steps, Madry et al.: ε/16 at 40 steps)
  --restarts N             PGD random restarts (default ${ROBUSTNESS_DEFAULTS.restarts})
  --autoattack-steps N     iterations of each APGD run in the AutoAttack-style cascade (APGD-CE,
                           then APGD-T on the images still robust) (default 100)
  --autoattack-targets K   APGD-T target classes (default 9)
  --autoattack-queries Q   queries of its last stage, the black-box Square attack, on the
                           images still robust (default 5000; 0 leaves Square out)
  --no-autoattack          leave the cascade out (it costs up to (1 + K)·N gradient steps
                           and Q forward passes per image)
  --epsilons E1,E2,...     L∞ radii (default ${ROBUSTNESS_DEFAULTS.epsilons.join(',')}); ε = 1 is always added as a sanity check
  --train-epsilon E        ε of the PGD in ARD and robust-teacher training (default ${ROBUSTNESS_DEFAULTS.trainEpsilon})
  --train-steps N          its steps (default ${ROBUSTNESS_DEFAULTS.trainSteps})
  --epochs N, --teacher-epochs N, --student-epochs N, --temperature T, --hard-weight H,
  --batch N, --lr R, --seed S, --train-images N, --test-images N
                           as for the demo (KD and ARD both give the hard loss weight H;
                           test images: clean accuracy, corruptions, calibration)

Distill options:
  --teacher FILE           the teacher, an ONNX model taking [batch, 1, 28, 28] images
  --teacher-mean M, --teacher-std S
                           the teacher was trained on (pixel − M) / S (e.g. 0.1307, 0.3081);
                           kdgpu standardises its inputs (default: pixels in [0, 1] as they are)
  --export-onnx FILE       write the distilled student as ONNX (opset 13)
  --out DIR                output folder (default ${DISTILL_DEFAULTS.out})
  --epochs N, --batch N, --lr R, --temperature T, --hard-weight H, --seed S, --train-images N,
  --test-images N          as for the demo (defaults: ${DISTILL_DEFAULTS.epochs} epochs, batch ${DISTILL_DEFAULTS.batchSize})

The held-out images for temperature scaling are the last 5,000 training images (1,000
with --quick or --train-images); they are never trained on.
`;

function epsilonList(args: ReturnType<typeof parseArgs>): number[] {
  const text = args.options.get('epsilons');
  if (text === undefined) return [...ROBUSTNESS_DEFAULTS.epsilons];
  const values = text.split(',').map(Number);
  if (values.length === 0 || values.some((v) => !(v > 0 && v < 1))) throw new Error(`--epsilons must be numbers in (0, 1) separated by commas, got '${text}'`);
  return values;
}

function optionalInteger(args: ReturnType<typeof parseArgs>, name: string): number | undefined {
  return args.options.has(name) ? numberOption(args, name, 0, { min: 1, max: 1e7, integer: true }) : undefined;
}

/**
 * --temperature and --hard-weight, checked by the same rule as the API's temperature and
 * hardWeight (distill/options.ts), with DISTILLATION_DEFAULTS as defaults.
 */
function distillationOptions(args: ReturnType<typeof parseArgs>): { temperature: number; hardWeight: number } {
  const given = { temperature: numberOption(args, 'temperature', DISTILLATION_DEFAULTS.temperature), hardWeight: numberOption(args, 'hard-weight', DISTILLATION_DEFAULTS.hardWeight) };
  return distillationWeights('kdgpu', given, { temperature: '--temperature', hardWeight: '--hard-weight' });
}

/** Options renamed since an earlier release: reported with their new names. */
const RENAMED_OPTIONS: Record<string, string> = { alpha: 'hard-weight', beta: 'hint-weight' };

/** Options the demo and the robustness command share. */
const TRAINING_OPTIONS = ['quick', 'out', 'epochs', 'teacher-epochs', 'student-epochs', 'temperature', 'hard-weight', 'batch', 'lr', 'seed', 'train-images', 'test-images'];

/** Each command's options, so an unknown one is reported as unknown before any parsing. */
const COMMAND_OPTIONS: Record<string, readonly string[]> = {
  demo: [...TRAINING_OPTIONS, 'hint-weight', 'no-robustness', 'train-teacher', 'export-onnx', 'attack-images', 'pgd-steps', 'restarts', 'train-epsilon', 'train-steps'],
  robustness: [...TRAINING_OPTIONS, 'save', 'load', 'robust-teacher', 'attack-images', 'pgd-steps', 'relative-step-size', 'restarts', 'epsilons', 'train-epsilon', 'train-steps', 'autoattack-steps', 'autoattack-targets', 'autoattack-queries', 'no-autoattack'],
  distill: ['teacher', 'teacher-mean', 'teacher-std', 'export-onnx', 'out', 'epochs', 'batch', 'lr', 'temperature', 'hard-weight', 'seed', 'train-images', 'test-images'],
};

async function main(argv: string[]): Promise<number> {
  const command = argv.find((word) => !word.startsWith('--'));
  if (command && COMMAND_OPTIONS[command]) checkOptionNames(argv, [...COMMAND_OPTIONS[command]!, 'help'], command, RENAMED_OPTIONS);
  const args = parseArgs(argv, new Set(['quick', 'help', 'no-robustness', 'robust-teacher', 'train-teacher', 'no-autoattack']));
  if (!args.command || args.command === 'help' || args.flags.has('help')) {
    process.stdout.write(HELP);
    return args.command && args.command !== 'help' && !args.flags.has('help') ? 1 : 0;
  }
  if (args.command === 'demo') {
    checkKnown(args, COMMAND_OPTIONS.demo!);
    const quick = args.flags.has('quick');
    const epochs = numberOption(args, 'epochs', quick ? DEMO_QUICK.studentEpochs : NaN, { min: 1, max: 1000, integer: true });
    await runDemo({
      quick,
      out: args.options.get('out') ?? DEMO_DEFAULTS.out,
      seed: numberOption(args, 'seed', DEMO_DEFAULTS.seed, { min: 0, max: 2 ** 31, integer: true }),
      trainTeacher: args.flags.has('train-teacher'),
      teacherEpochs: numberOption(args, 'teacher-epochs', Number.isNaN(epochs) ? DEMO_DEFAULTS.teacherEpochs : epochs, { min: 1, max: 1000, integer: true }),
      studentEpochs: numberOption(args, 'student-epochs', Number.isNaN(epochs) ? DEMO_DEFAULTS.studentEpochs : epochs, { min: 1, max: 1000, integer: true }),
      batchSize: numberOption(args, 'batch', quick ? DEMO_QUICK.batchSize : DEMO_DEFAULTS.batchSize, { min: 1, max: 4096, integer: true }),
      ...distillationOptions(args),
      hintWeight: numberOption(args, 'hint-weight', DEMO_DEFAULTS.hintWeight, { min: 0, max: 1e6 }),
      learningRate: numberOption(args, 'lr', DEMO_DEFAULTS.learningRate, { min: 1e-8, max: 10 }),
      learningRateDecay: quick ? DEMO_QUICK.learningRateDecay : DEMO_DEFAULTS.learningRateDecay,
      trainImages: optionalInteger(args, 'train-images'),
      testImages: optionalInteger(args, 'test-images'),
      exportOnnx: args.options.get('export-onnx'),
      robustness: args.flags.has('no-robustness')
        ? false
        : {
            attackImages: optionalInteger(args, 'attack-images'),
            pgdSteps: optionalInteger(args, 'pgd-steps'),
            restarts: numberOption(args, 'restarts', ROBUSTNESS_DEFAULTS.restarts, { min: 1, max: 100, integer: true }),
            trainEpsilon: numberOption(args, 'train-epsilon', ROBUSTNESS_DEFAULTS.trainEpsilon, { min: 0, max: 1 }),
            trainSteps: numberOption(args, 'train-steps', quick ? ROBUSTNESS_QUICK.trainSteps : ROBUSTNESS_DEFAULTS.trainSteps, { min: 1, max: 1000, integer: true }),
            ardEpochs: quick ? Math.min(DEMO_QUICK.ardEpochs, epochs) : undefined,
          },
    });
    return 0;
  }
  if (args.command === 'robustness') {
    checkKnown(args, COMMAND_OPTIONS.robustness!);
    const quick = args.flags.has('quick');
    const d = ROBUSTNESS_DEFAULTS;
    const epochs = numberOption(args, 'epochs', quick ? ROBUSTNESS_QUICK.epochs : NaN, { min: 1, max: 1000, integer: true });
    await runRobustnessCommand({
      quick,
      out: args.options.get('out') ?? d.out,
      seed: numberOption(args, 'seed', d.seed, { min: 0, max: 2 ** 31, integer: true }),
      teacherEpochs: numberOption(args, 'teacher-epochs', Number.isNaN(epochs) ? d.teacherEpochs : epochs, { min: 1, max: 1000, integer: true }),
      studentEpochs: numberOption(args, 'student-epochs', Number.isNaN(epochs) ? d.studentEpochs : epochs, { min: 1, max: 1000, integer: true }),
      batchSize: numberOption(args, 'batch', d.batchSize, { min: 1, max: 4096, integer: true }),
      ...distillationOptions(args),
      learningRate: numberOption(args, 'lr', d.learningRate, { min: 1e-8, max: 10 }),
      robustTeacher: args.flags.has('robust-teacher'),
      trainEpsilon: numberOption(args, 'train-epsilon', d.trainEpsilon, { min: 0, max: 1 }),
      trainSteps: numberOption(args, 'train-steps', quick ? ROBUSTNESS_QUICK.trainSteps : d.trainSteps, { min: 1, max: 1000, integer: true }),
      trainImages: optionalInteger(args, 'train-images'),
      testImages: optionalInteger(args, 'test-images'),
      attackImages: optionalInteger(args, 'attack-images'),
      pgdSteps: optionalInteger(args, 'pgd-steps'),
      ...(args.options.has('relative-step-size') ? { relativeStepSize: numberOption(args, 'relative-step-size', NaN, { min: 1e-6, max: 10 }) } : {}),
      restarts: numberOption(args, 'restarts', d.restarts, { min: 1, max: 100, integer: true }),
      autoattack: args.flags.has('no-autoattack')
        ? false
        : {
            steps: numberOption(args, 'autoattack-steps', d.autoattack ? d.autoattack.steps : 100, { min: 1, max: 10000, integer: true }),
            targets: numberOption(args, 'autoattack-targets', d.autoattack ? d.autoattack.targets : 9, { min: 1, max: 1000, integer: true }),
            queries: numberOption(args, 'autoattack-queries', d.autoattack ? d.autoattack.queries : 5000, { min: 0, max: 1e6, integer: true }),
          },
      epsilons: epsilonList(args),
      ...(args.options.has('save') ? { save: args.options.get('save') } : {}),
      ...(args.options.has('load') ? { load: args.options.get('load') } : {}),
    });
    return 0;
  }
  if (args.command === 'distill') {
    checkKnown(args, COMMAND_OPTIONS.distill!);
    const teacher = args.options.get('teacher');
    if (!teacher) throw new Error('distill needs --teacher FILE.onnx (the teacher model)');
    const [mean, std] = ['teacher-mean', 'teacher-std'].map((name) => (args.options.has(name) ? numberOption(args, name, NaN, { min: -1e6, max: 1e6 }) : undefined));
    if ((mean === undefined) !== (std === undefined)) throw new Error('--teacher-mean and --teacher-std go together');
    if (std !== undefined && !(std > 0)) throw new Error(`--teacher-std must be positive, got ${std}`);
    await runDistillCommand({
      teacher,
      teacherNormalization: mean !== undefined ? { mean, std: std! } : undefined,
      out: args.options.get('out') ?? DISTILL_DEFAULTS.out,
      exportOnnx: args.options.get('export-onnx'),
      epochs: numberOption(args, 'epochs', DISTILL_DEFAULTS.epochs, { min: 1, max: 1000, integer: true }),
      batchSize: numberOption(args, 'batch', DISTILL_DEFAULTS.batchSize, { min: 1, max: 4096, integer: true }),
      learningRate: numberOption(args, 'lr', DISTILL_DEFAULTS.learningRate, { min: 1e-8, max: 10 }),
      ...distillationOptions(args),
      seed: numberOption(args, 'seed', DISTILL_DEFAULTS.seed, { min: 0, max: 2 ** 31, integer: true }),
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
    // Library messages that already start with "kdgpu" (kdgpu.pretrained: ...) keep theirs.
    process.stderr.write(`${error.message.startsWith('kdgpu') ? '' : 'kdgpu: '}${error.message}\n`);
    process.exit(1);
  },
);
