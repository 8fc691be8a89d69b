// The `kdgpu` command: argument errors, help, and a tiny end-to-end demo run that writes
// results.json and report.html (the same code path as `npm run demo -- --quick --out DIR`).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkKnown, numberOption, parseArgs } from '../src/cli/args.js';

const run = promisify(execFile);
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kdgpu-cli-'));
  await run('node', ['scripts/build.mjs']);
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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
    const args = parseArgs(['demo', '--out', 'x', '--quick', '--alpha=0.3'], new Set(['quick']));
    expect(args.command).toBe('demo');
    expect(args.options.get('out')).toBe('x');
    expect(args.flags.has('quick')).toBe(true);
    expect(numberOption(args, 'alpha', 0, { min: 0, max: 1 })).toBe(0.3);
    expect(() => parseArgs(['demo', '--out'], new Set())).toThrow('option --out needs a value');
    expect(() => numberOption(parseArgs(['--alpha', 'x'], new Set()), 'alpha', 0, { min: 0, max: 1 })).toThrow("--alpha must be a number in [0, 1], got 'x'");
    expect(() => checkKnown(parseArgs(['--bogus', '1'], new Set()), ['out'])).toThrow('unknown option --bogus (known: --out)');
  });
});

describe('kdgpu command', () => {
  it('prints help, and fails clearly on an unknown command or option', async () => {
    expect((await cli(['help'])).stdout).toContain('kdgpu demo [options]');
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const bad = await cli(['demo', '--alpha', '2']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("--alpha must be a number in [0, 1], got '2'");
  });

  it('a tiny demo writes results.json and a self-contained report.html', async () => {
    const out = join(dir, 'demo');
    const result = await cli(['demo', '--quick', '--train-images', '256', '--test-images', '200', '--epochs', '1', '--batch', '32', '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(json.models.map((m: { name: string }) => m.name)).toEqual(['teacher', 'student-alone', 'student-kd', 'student-kd-feature']);
    expect(json.data).toEqual({ train: 256, validation: 1000, test: 200 });
    for (const m of json.models) {
      expect(m.testErrors).toBe(Math.round((1 - m.testAccuracy) * 200));
      expect(m.history[0].curve.length).toBeGreaterThan(1);
    }
    expect(json.models[0].parameters).toBeGreaterThan(json.models[1].parameters);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('student-kd-feature');
    expect(html).not.toMatch(/<script|src="http/); // self-contained, no scripts or remote assets
    expect(result.stdout).toMatch(/student-kd\s+\d+\.\d+%/);
  });
});
