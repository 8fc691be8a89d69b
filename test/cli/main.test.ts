// The `kdgpu` command: argument errors, help, a tiny end-to-end demo run that writes
// results.json and report.html (the same code path as `npm run demo -- --quick --out DIR`)
// and robustness.json/.html, and a tiny `kdgpu robustness` run that saves its models
// (loading them back: test/cli/robustness-report.test.ts).
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { loadMnistFromDirectory, subset } from '../../src/index.js';
import { checkKnown, numberOption, parseArgs } from '../../src/cli/args.js';
import type { RobustnessReport } from '../../src/cli/robustness-report.js';
import { noiseTolerance } from '../../src/robust/attack-sanity.js';

const run = promisify(execFile);
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kdgpu-cli-'));
  await run('node', ['scripts/build.mjs']);
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Accuracy of an exported ONNX classifier, run by onnxruntime, on the first `count` MNIST test images. */
async function onnxRuntimeAccuracy(path: string, count: number): Promise<number> {
  const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(path)));
  const test = subset((await loadMnistFromDirectory()).test, 0, count);
  const logits = (await session.run({ input: new ort.Tensor('float32', test.images, [count, 1, 28, 28]) })).logits!.data as Float32Array;
  let correct = 0;
  for (let i = 0; i < count; i++) {
    const row = logits.subarray(i * 10, i * 10 + 10);
    if (row.indexOf(Math.max(...row)) === test.labels[i]) correct++;
  }
  return correct / count;
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', ['dist/cli.js', ...args], { env: { ...process.env, XDG_RUNTIME_DIR: '/tmp' }, timeout: 240_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('argument parsing', () => {
  it('parses commands, options and flags, and names what is wrong', () => {
    const args = parseArgs(['demo', '--out', 'x', '--quick', '--lr=0.3'], new Set(['quick']));
    expect(args.command).toBe('demo');
    expect(args.options.get('out')).toBe('x');
    expect(args.flags.has('quick')).toBe(true);
    expect(numberOption(args, 'lr', 0, { min: 0, max: 1 })).toBe(0.3);
    expect(() => parseArgs(['demo', '--out'], new Set())).toThrow('option --out needs a value');
    expect(() => numberOption(parseArgs(['--lr', 'x'], new Set()), 'lr', 0, { min: 0, max: 1 })).toThrow("--lr must be a number in [0, 1], got 'x'");
    expect(() => checkKnown(parseArgs(['--bogus', '1'], new Set()), ['out'])).toThrow('unknown option --bogus (known: --out)');
  });
});

describe('kdgpu command', () => {
  it('prints help, and fails clearly on an unknown command or option', async () => {
    const help = (await cli(['help'])).stdout;
    expect(help).toContain('kdgpu demo [options]');
    expect(help).toContain('kdgpu robustness [options]');
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    // --hard-weight and --temperature are checked by the API's own rule (distill/options.ts),
    // with one "kdgpu:" prefix.
    const bad = await cli(['demo', '--hard-weight', '2']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('kdgpu: --hard-weight weights the hard loss and must be in [0, 1], got 2\n');
    expect((await cli(['distill', '--teacher', 'x.onnx', '--temperature', '0'])).stderr).toBe('kdgpu: --temperature must be a finite number > 0, got 0\n');
    // The former names say what replaced them.
    expect((await cli(['demo', '--alpha', '0.2'])).stderr).toContain('option --alpha was renamed --hard-weight (same meaning)');
    expect((await cli(['demo', '--beta', '0.2'])).stderr).toContain('option --beta was renamed --hint-weight (same meaning)');
    const unknownOption = await cli(['robustness', '--hint-weight', '1']);
    expect(unknownOption.code).toBe(1);
    expect(unknownOption.stderr).toContain("unknown option --hint-weight for 'robustness'");
    // A misspelt option is unknown (with the nearest one), not "needs a value", and fails at once.
    const started = Date.now();
    const misspelt = await cli(['demo', '--epoch', '3', '--out', join(dir, 'never')]);
    expect(misspelt.stderr).toContain("kdgpu: unknown option --epoch for 'demo'; did you mean --epochs?");
    expect((await cli(['demo', '--quik'])).stderr).toContain('did you mean --quick?');
    // An output folder that cannot be created (Node's recursive mkdir spins forever on
    // these) fails at once, before any training, naming the path and the reason.
    for (const [command, flag] of [['demo', '--out'], ['robustness', '--out'], ['distill', '--out'], ['demo', '--export-onnx']] as const) {
      const extra = command === 'distill' ? ['--teacher', 'test/fixtures/onnx/mnist-torch-cnn.onnx'] : [];
      const target = flag === '--export-onnx' ? '/proc/kdgpu-test/student.onnx' : '/proc/kdgpu-test/out';
      const unwritable = await cli([command, ...extra, flag, target]);
      expect(unwritable.code, `${command} ${flag}`).toBe(1);
      expect(unwritable.stderr).toMatch(/cannot create \/proc\/kdgpu-test\S* \(the (output folder|folder of the ONNX export \/proc\/kdgpu-test\/student\.onnx)\): mkdir \/proc\/kdgpu-test failed \(ENOENT\)/);
    }
    expect(Date.now() - started).toBeLessThan(30_000);
    expect((await cli(['robustness', '--epsilons', '0.1,2'])).stderr).toContain("--epsilons must be numbers in (0, 1) separated by commas, got '0.1,2'");
  });

  it('a tiny demo writes results.json and a self-contained report.html', async () => {
    const out = join(dir, 'demo');
    const tinyRobustness = ['--attack-images', '20', '--pgd-steps', '1', '--train-steps', '1'];
    const onnxPath = join(dir, 'student.onnx');
    const result = await cli(['demo', '--quick', '--train-images', '256', '--test-images', '200', '--epochs', '1', '--batch', '32', '--out', out, '--export-onnx', onnxPath, ...tinyRobustness]);
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(json.models.map((m: { name: string }) => m.name)).toEqual(['teacher', 'student-alone', 'student-kd', 'student-kd-feature']);
    expect(json.data).toEqual({ train: 256, validation: 1000, test: 200 });
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(json.models[0].role).toBe('teacher (shipped, pretrained)');
    expect(json.models[0].testAccuracy).toBeGreaterThan(0.97); // the shipped teacher, not one trained on 256 images
    for (const m of json.models) expect(m.testErrors).toBe(Math.round((1 - m.testAccuracy) * 200));
    for (const m of json.models.slice(1)) expect(m.history[0].curve.length).toBeGreaterThan(1);
    const { onlyA, onlyB, pValue, verdict } = json.kdVersusAlone;
    expect(onlyA + onlyB).toBeLessThanOrEqual(200);
    expect(pValue).toBeGreaterThan(0);
    expect(verdict).toMatch(/McNemar p = /);
    expect(html).toContain('KD vs the student alone');
    expect(result.stdout).toContain('KD vs alone: ');
    // The exported KD student, run by onnxruntime, classifies like the KD student in the report.
    expect(await onnxRuntimeAccuracy(onnxPath, 200)).toBeCloseTo(json.models[2].testAccuracy, 5);
    expect(json.models[0].parameters).toBeGreaterThan(json.models[1].parameters);
    expect(html).toContain('<svg');
    expect(html).toContain('student-kd-feature');
    expect(html).not.toMatch(/<script|src="http/); // self-contained, no scripts or remote assets
    expect(result.stdout).toMatch(/student-kd\s+\d+\.\d+%/);
    const robustness = JSON.parse(readFileSync(join(out, 'robustness.json'), 'utf8')) as RobustnessReport;
    expect(robustness.command).toBe('demo');
    // The shipped robust teacher is evaluated beside the standard one and teaches ARD and RSLAD.
    expect(robustness.models.map((m) => m.name)).toEqual(['teacher', 'robust-teacher', 'student-alone', 'student-kd', 'student-ard', 'student-rslad']);
    expect(robustness.teacherAdversariallyTrained).toBe(true);
    expect(robustness.models[1]!.clean.accuracy).toBeGreaterThan(0.97);
    expect(robustness.models.find((m) => m.name === 'student-rslad')!.training).toContain('RSLAD from the adversarially trained teacher');
    expect(robustness.data).toEqual({ train: 256, heldOut: 1000, test: 200, attack: 20 });
    expect(readFileSync(join(out, 'robustness.html'), 'utf8')).toContain('data:image/png;base64,');
  }, 300_000);

  it('kdgpu distill imports an ONNX teacher, distils the seed CNN and exports it as ONNX that onnxruntime runs', async () => {
    const out = join(dir, 'distill');
    const onnxPath = join(out, 'student.onnx');
    const teacher = 'test/fixtures/onnx/mnist-torch-cnn.onnx';
    const result = await cli(['distill', '--teacher', teacher, '--train-images', '512', '--test-images', '200', '--epochs', '1', '--batch', '32', '--out', out, '--export-onnx', onnxPath]);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'distill.json'), 'utf8'));
    expect(report.teacher.testAccuracy).toBeGreaterThan(0.9);
    expect(report.data).toEqual({ train: 512, validation: 1000, test: 200 });
    expect(await onnxRuntimeAccuracy(onnxPath, 200)).toBeCloseTo(report.student.testAccuracy, 5);
    expect((await cli(['distill'])).stderr).toContain('distill needs --teacher FILE.onnx');
    expect((await cli(['distill', '--teacher', teacher, '--teacher-mean', '0.1'])).stderr).toContain('--teacher-mean and --teacher-std go together');
  }, 300_000);

  it('a tiny robustness run writes robustness.json and a self-contained robustness.html, and saves its models', async () => {
    const [out, weights] = ['robustness', 'weights'].map((name) => join(dir, name));
    const tiny = ['--train-images', '256', '--train-steps', '1', '--batch', '32', '--test-images', '100', '--attack-images', '20', '--pgd-steps', '1', '--autoattack-steps', '2', '--autoattack-targets', '2', '--autoattack-queries', '20'];
    const result = await cli(['robustness', '--quick', ...tiny, '--out', out, '--save', weights]);
    expect(result.code, result.stderr).toBe(0);
    expect(readdirSync(weights).sort()).toEqual(['student-alone.safetensors', 'student-ard.safetensors', 'student-kd.safetensors', 'teacher.safetensors']);
    expect(result.stderr).toContain('robustness evaluation'); // progress goes to stderr
    const report = JSON.parse(readFileSync(join(out, 'robustness.json'), 'utf8')) as RobustnessReport;
    expect(Object.keys(report)).toEqual(expect.arrayContaining(['kdgpu', 'date', 'device', 'config', 'teacherAdversariallyTrained', 'settings', 'data', 'models', 'examples', 'totalSeconds']));
    expect(report.teacherAdversariallyTrained).toBe(false);
    expect(report.data).toEqual({ train: 256, heldOut: 1000, test: 100, attack: 20 });
    expect(report.models.map((m) => m.name)).toEqual(['teacher', 'student-alone', 'student-kd', 'student-ard']);
    const numbers: unknown[] = [];
    JSON.stringify(report, (_key, value: unknown) => (typeof value === 'number' && numbers.push(value), value));
    expect(numbers.every((v) => Number.isFinite(v))).toBe(true);
    for (const m of report.models) {
      const { epsilons, curves, flags, count } = m.attacks;
      expect(epsilons).toEqual([0.05, 0.1, 0.2, 0.3, 1]);
      expect(curves.map((c) => c.name)).toEqual(['fgsm-ce', 'pgd-ce', 'pgd-margin', 'autoattack']);
      const flagged = (check: string, attack: string, epsilon: number) => flags.some((f) => f.check === check && f.attack === attack && f.epsilon === epsilon);
      const above = (a: number, b: number) => a > b + noiseTolerance(count, (a + b) / 2);
      for (const c of curves) {
        for (let k = 1; k < epsilons.length; k++) if (above(c.accuracy[k]!, c.accuracy[k - 1]!)) expect(flagged('accuracy-rises-with-epsilon', c.name, epsilons[k]!)).toBe(true);
        if (c.kind !== 'fgsm') epsilons.forEach((e, k) => above(c.accuracy[k]!, curves[0]!.accuracy[k]!) && expect(flagged('pgd-weaker-than-fgsm', c.name, e)).toBe(true));
      }
      expect(m.corruptions).toHaveLength(20);
      expect(m.calibration.before.bins).toHaveLength(15);
    }
    const html = readFileSync(join(out, 'robustness.html'), 'utf8');
    expect(html).not.toMatch(/<script|<link|\b(src|href)="(https?:)?\/\//i);
    expect(html.match(/<img src="data:image\/png;base64,/g)!.length).toBe(8 + 2 * 8 * 4 + 1 + 20);
    expect(html).toMatch(/class="banner (ok|bad)"/);
    expect(html).toContain('autoattack: the white-box part of AutoAttack');
    expect(html).toContain('With 20 attacked images each accuracy carries a 95 % interval of up to ±21.9 points');
    expect(report.settings.attacks.at(-1)).toEqual({ name: 'autoattack', kind: 'autoattack', loss: 'ce+dlr', steps: 2, restarts: 1, targets: 2, queries: 20 });
    expect(report.models[0]!.attacks.curves.at(-1)!.stages!.map((s) => s.name)).toEqual(['apgd-ce', 'apgd-t (target rank 2)', 'apgd-t (target rank 3)', 'square']);
  }, 300_000);
});
