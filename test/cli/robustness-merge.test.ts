// scripts/merge-robustness-results.mjs and scripts/robustness-table.mjs: parts evaluated in
// separate processes join into one file; a part attacked at fewer ε merges and shows '–' in
// the ε columns it lacks; parts with other settings are refused; one model's parts attacked at
// other ε join into one entry with its sanity flags recomputed (the joiner loads dist/).
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
    count: 1000,
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

  it("joins one model's parts attacked at different ε, recomputing its sanity flags over the joined curve", () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdgpu-merge-'));
    // The ε 0.3 part's cascade leaves more than the ε 0.1 part's: only the joined curve shows it.
    const at01 = write(dir, 'a.json', part([0.1], model('student', [0.1], [0.8, 0.01], [0.3, 0])));
    const at03 = write(dir, 'b.json', part([0.3], model('student', [0.3], [0.75, 0], [0.8, 0.02])));
    const out = join(dir, 'merged.json');
    execFileSync('node', ['scripts/merge-robustness-results.mjs', out, at03, at01], { stdio: 'pipe' });
    const merged = JSON.parse(readFileSync(out, 'utf8'));
    expect(merged.models).toHaveLength(1);
    const { attacks } = merged.models[0];
    expect(attacks.epsilons).toEqual([0.1, 0.3, 1]);
    expect(attacks.curves[0].accuracy).toEqual([0.8, 0.75, 0]); // unbounded ε: the lower of 0.01 and 0
    expect(attacks.curves[1].accuracy).toEqual([0.3, 0.8, 0]);
    expect(attacks.flags.map((f: { check: string; attack: string }) => `${f.check} ${f.attack}`)).toEqual(['accuracy-rises-with-epsilon autoattack']);
    const table = execFileSync('node', ['scripts/robustness-table.mjs', out], { encoding: 'utf8' });
    expect(table).toContain('| student | 99.0% | 30.0% | 75.0% |');
  });

  it("refuses to join a model's parts that overlap in ε or disagree on the clean images", () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdgpu-merge-'));
    const a = write(dir, 'a.json', part([0.3], model('s', [0.3], [0.9, 0], [0.8, 0])));
    const b = write(dir, 'b.json', part([0.1, 0.3], model('s', [0.1, 0.3], [0.9, 0.9, 0], [0.8, 0.8, 0])));
    const other = { ...model('s', [0.1], [0.9, 0], [0.8, 0]), clean: { accuracy: 0.98 } };
    const c = write(dir, 'c.json', part([0.1], other));
    const merge = (...paths: string[]) => () => execFileSync('node', ['scripts/merge-robustness-results.mjs', join(dir, 'm.json'), ...paths], { stdio: 'pipe' });
    expect(merge(a, b)).toThrow(/attacked at ε = 0.3 in more than one/);
    expect(merge(a, c)).toThrow(/other clean/);
  });

  it('refuses parts whose other settings differ', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdgpu-merge-'));
    const a = write(dir, 'a.json', part([0.3], model('a', [0.3], [0.9, 0], [0.8, 0])));
    const b = write(dir, 'b.json', part([0.3], model('b', [0.3], [0.9, 0], [0.8, 0]), 7));
    expect(() => execFileSync('node', ['scripts/merge-robustness-results.mjs', join(dir, 'm.json'), a, b], { stdio: 'pipe' })).toThrow(/other settings/);
  });
});
