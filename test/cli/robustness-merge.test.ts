// scripts/merge-robustness-results.mjs and scripts/robustness-table.mjs: parts evaluated in
// separate processes join into one file; a part attacked at fewer ε merges and shows '–' in
// the ε columns it lacks; parts with other settings are refused.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const settings = (epsilons: number[], attackSeed = 0) => ({ norm: 'linf', epsilons, unboundedEpsilon: 1, attackSeed, attacks: [{ name: 'pgd-ce' }] });
const model = (name: string, epsilons: number[], pgd: number[], cascade: number[]) => ({
  name,
  clean: { accuracy: 0.99 },
  attacks: {
    epsilons: [...epsilons, 1],
    unboundedEpsilon: 1,
    clean: 0.99,
    curves: [
      { name: 'pgd-ce', accuracy: pgd },
      { name: 'autoattack', accuracy: cascade },
    ],
    flags: [],
  },
  calibration: { before: { ece: 0.01 }, after: { ece: 0.005 }, temperature: 1.5 },
  meanCorruptionError: 0.2,
  corruptions: [{ name: 'shot_noise', mnistC: true, error: 0.2 }],
});
const part = (epsilons: number[], m: object, attackSeed = 0) => ({ command: 'cmd', date: '2026-12-04', seconds: 10, settings: settings(epsilons, attackSeed), data: { test: 10000, attack: 1000 }, models: [m] });

function write(dir: string, name: string, value: object): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

describe('robustness results: merge and table', () => {
  it('merges parts attacked at different ε and keys the table columns on the ε value', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdgpu-merge-'));
    const both = write(dir, 'a.json', part([0.1, 0.3], model('teacher', [0.1, 0.3], [0.5, 0.2, 0], [0.4, 0.1, 0])));
    const only03 = write(dir, 'b.json', part([0.3], model('student', [0.3], [0.9, 0], [0.85, 0])));
    const out = join(dir, 'merged.json');
    execFileSync('node', ['scripts/merge-robustness-results.mjs', out, both, only03], { stdio: 'pipe' });
    const merged = JSON.parse(readFileSync(out, 'utf8'));
    expect(merged.settings.epsilons).toEqual([0.1, 0.3]);
    expect(merged.models.map((m: { name: string }) => m.name)).toEqual(['teacher', 'student']);

    const table = execFileSync('node', ['scripts/robustness-table.mjs', out], { encoding: 'utf8' });
    expect(table).toContain('| teacher | 99.0% | 40.0% | 10.0% |');
    // The student's ε 0.3 value lands in the ε 0.3 column, not under ε 0.1.
    expect(table).toContain('| student | 99.0% | – | 85.0% |');
    expect(table).toContain('| student | pgd-ce | 99.0% | – | 90.0% | 0.0% |');
  });

  it('refuses parts whose other settings differ', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdgpu-merge-'));
    const a = write(dir, 'a.json', part([0.3], model('a', [0.3], [0.9, 0], [0.8, 0])));
    const b = write(dir, 'b.json', part([0.3], model('b', [0.3], [0.9, 0], [0.8, 0]), 7));
    expect(() => execFileSync('node', ['scripts/merge-robustness-results.mjs', join(dir, 'm.json'), a, b], { stdio: 'pipe' })).toThrow(/other settings/);
  });
});
