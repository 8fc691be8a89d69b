// MNIST-C corruptions (src/robust/corruptions.ts) on real MNIST digits, on the CPU: every
// corruption is deterministic for a seed, stays in [0, 1] and visibly changes the digit;
// specific checks per corruption; corruptDataset's per-image seeding and its errors.
// Tolerances: exact equality for determinism and integer shifts; rotation keeps total ink
// within 5% and turns the digit's principal axis by the sampled angle within 0.05 rad
// (bilinear resampling); Gaussian noise std within 5% of σ over 784 × 20 samples.
import { beforeAll, describe, expect, it } from 'vitest';
import { subset, type Dataset } from '../../src/data/dataset.js';
import { loadMnistFromDirectory } from '../../src/data/mnist.js';
import { deriveSeed } from '../../src/data/seed.js';
import { Random } from '../../src/nn/random.js';
import { CORRUPTION_NAMES, CORRUPTIONS, corruptDataset, DEFAULT_SEVERITY, MNIST_C_CORRUPTIONS, type CorruptionName } from '../../src/robust/corruptions.js';

const SIDE = 28;
/** Corruptions with no randomness: the same output for every seed. */
const DETERMINISTIC: CorruptionName[] = ['scale', 'brightness', 'stripe', 'canny_edges'];

let testSet: Dataset;
let digits: Dataset;
/** Test image 0 (a 7), the digit most checks use. */
let digit: Float32Array;

beforeAll(async () => {
  testSet = (await loadMnistFromDirectory()).test;
  digits = subset(testSet, 0, 40);
  digit = digits.images.slice(0, SIDE * SIDE);
});

function meanAbsDifference(a: Float32Array, b: Float32Array): number {
  let total = 0;
  for (let i = 0; i < a.length; i++) total += Math.abs(a[i]! - b[i]!);
  return total / a.length;
}

function sum(image: Float32Array): number {
  return image.reduce((acc, v) => acc + v, 0);
}

/** Ink-weighted centre (x = column, y = row) and the orientation of the principal axis. */
function moments(image: Float32Array): { x: number; y: number; angle: number } {
  let m = 0;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < image.length; i++) {
    m += image[i]!;
    mx += image[i]! * (i % SIDE);
    my += image[i]! * Math.floor(i / SIDE);
  }
  const [x, y] = [mx / m, my / m];
  let xx = 0;
  let yy = 0;
  let xy = 0;
  for (let i = 0; i < image.length; i++) {
    const dx = (i % SIDE) - x;
    const dy = Math.floor(i / SIDE) - y;
    xx += image[i]! * dx * dx;
    yy += image[i]! * dy * dy;
    xy += image[i]! * dx * dy;
  }
  return { x, y, angle: 0.5 * Math.atan2(2 * xy, xx - yy) };
}

/**
 * Std of clip(0.5 + σZ, 0, 1) − 0.5 for Z ~ N(0, 1), by a float64 Riemann sum: clipping
 * shortens the tails once σ is not small against 0.5.
 */
function clippedStd(sigma: number): number {
  let variance = 0;
  const step = 1e-3;
  for (let z = -12; z < 12; z += step) variance += Math.min(sigma * Math.abs(z), 0.5) ** 2 * Math.exp(-z * z / 2) * step;
  return Math.sqrt(variance / Math.sqrt(2 * Math.PI));
}

describe('every corruption', () => {
  it('has 15 MNIST-C names plus gaussian_noise in the registry', () => {
    expect(MNIST_C_CORRUPTIONS).toHaveLength(15);
    expect(Object.keys(CORRUPTIONS).sort()).toEqual([...CORRUPTION_NAMES].sort());
  });

  for (const name of CORRUPTION_NAMES) {
    it(`${name}: deterministic per seed, in [0, 1], and changes a real digit`, () => {
      const corrupt = CORRUPTIONS[name];
      const first = corrupt(digit, new Random(7));
      expect(first).toHaveLength(SIDE * SIDE);
      expect(Array.from(corrupt(digit, new Random(7)))).toEqual(Array.from(first));
      expect(first.every((v) => v >= 0 && v <= 1)).toBe(true);
      expect(meanAbsDifference(first, digit)).toBeGreaterThan(0.01);
      expect(first.filter((v, i) => Math.abs(v - digit[i]!) > 0.05).length).toBeGreaterThan(10);
      // Sign-only randomness (rotate, shear: 2 outcomes; translate: 4) may repeat for two
      // seeds, so look for a difference among several.
      const others = [1, 2, 3, 4, 5, 6, 8, 9].map((seed) => corrupt(digit, new Random(seed)));
      const differs = others.some((other) => meanAbsDifference(other, first) > 0);
      expect(differs).toBe(!DETERMINISTIC.includes(name));
      expect(Array.from(digit)).toEqual(Array.from(digits.images.subarray(0, SIDE * SIDE))); // input untouched
    });
  }

  it('reject an image that is not 28×28', () => {
    expect(() => CORRUPTIONS.fog(new Float32Array(100), new Random(1))).toThrow('fog: expected one 28×28 image (784 floats), got 100 floats');
    expect(() => CORRUPTIONS.shot_noise(digit, new Random(1), 6 as 5)).toThrow('shotNoise: severity 6 must be an integer from 1 to 5');
  });
});

describe('specific corruptions', () => {
  it('translate shifts the digit by ±3 pixels on each axis exactly (integer shift)', () => {
    const out = CORRUPTIONS.translate(digit, new Random(3));
    const matches: [number, number][] = [];
    for (const dx of [-3, 3]) {
      for (const dy of [-3, 3]) {
        let same = true;
        for (let y = 0; y < SIDE && same; y++) {
          for (let x = 0; x < SIDE && same; x++) {
            const [sy, sx] = [y + dy, x + dx];
            const expected = sy >= 0 && sy < SIDE && sx >= 0 && sx < SIDE ? digit[sy * SIDE + sx]! : 0;
            same = Math.abs(out[y * SIDE + x]! - expected) < 1e-6;
          }
        }
        if (same) matches.push([dx, dy]);
      }
    }
    expect(matches).toHaveLength(1);
    const before = moments(digit);
    const after = moments(out);
    expect(Math.abs(after.x - before.x)).toBeGreaterThan(2);
    expect(Math.abs(after.y - before.y)).toBeGreaterThan(2);
  });

  it('rotate turns the digit by the sampled ±0.4 rad about the centre and keeps its ink', () => {
    for (const seed of [1, 2, 3, 4]) {
      const sign = new Random(seed).uniform() < 0.5 ? -1 : 1; // rotate's first draw
      const out = CORRUPTIONS.rotate(digit, new Random(seed));
      expect(Math.abs(sum(out) / sum(digit) - 1)).toBeLessThan(0.05);
      // The inverse map reads the input at R(θ)·p, so in (column, row) coordinates the
      // content turns by −θ.
      const turned = moments(out).angle - moments(digit).angle;
      const error = turned + sign * 0.4;
      // Axis angles are defined modulo π.
      expect(Math.abs(error - Math.PI * Math.round(error / Math.PI))).toBeLessThan(0.05);
    }
  });

  it('scale shrinks the digit to 0.7 of its size about the centre (ink × 0.7²)', () => {
    const out = CORRUPTIONS.scale(digit, new Random(0));
    expect(sum(out) / sum(digit)).toBeGreaterThan(0.49 * 0.9);
    expect(sum(out) / sum(digit)).toBeLessThan(0.49 * 1.1);
  });

  it('brightness raises every pixel by 0.5 (clipped at 1)', () => {
    const out = CORRUPTIONS.brightness(digit, new Random(0));
    const mean = (a: Float32Array) => sum(a) / a.length;
    expect(mean(out)).toBeGreaterThan(mean(digit) + 0.4);
    for (let i = 0; i < digit.length; i++) expect(out[i]).toBeCloseTo(Math.min(1, digit[i]! + 0.5), 6);
  });

  it('canny edges are binary and outline the strokes', () => {
    for (let k = 0; k < 5; k++) {
      const image = digits.images.subarray(k * SIDE * SIDE, (k + 1) * SIDE * SIDE);
      const edges = CORRUPTIONS.canny_edges(image, new Random(0));
      expect(edges.every((v) => v === 0 || v === 1)).toBe(true);
      const count = sum(edges);
      expect(count).toBeGreaterThan(20);
      expect(count).toBeLessThan(0.3 * SIDE * SIDE);
      // Each edge pixel has both ink and background within 2 pixels: it sits on a boundary.
      for (let i = 0; i < edges.length; i++) {
        if (!edges[i]) continue;
        const [row, col] = [Math.floor(i / SIDE), i % SIDE];
        let ink = false;
        let background = false;
        for (let r = Math.max(0, row - 2); r <= Math.min(SIDE - 1, row + 2); r++) {
          for (let c = Math.max(0, col - 2); c <= Math.min(SIDE - 1, col + 2); c++) {
            ink ||= image[r * SIDE + c]! > 0.5;
            background ||= image[r * SIDE + c]! < 0.1;
          }
        }
        expect(ink && background).toBe(true);
      }
    }
  });

  it('impulse noise sets about 17% of pixels, each to exactly 0 or 1', () => {
    const out = CORRUPTIONS.impulse_noise(digit, new Random(11));
    const changed = Array.from(out.keys()).filter((i) => out[i] !== digit[i]);
    expect(changed.every((i) => out[i] === 0 || out[i] === 1)).toBe(true);
    expect(changed.some((i) => out[i] === 1 && digit[i] === 0)).toBe(true); // salt on background
    expect(changed.some((i) => out[i] === 0 && digit[i]! > 0)).toBe(true); // pepper on ink
    // About half the hits set a pixel to what it already was (0 on background), so the
    // changed fraction is below 17%.
    expect(changed.length / out.length).toBeGreaterThan(0.05);
    expect(changed.length / out.length).toBeLessThan(0.17);
  });

  it('shot noise gives photon counts: every pixel a multiple of 1/3', () => {
    const out = CORRUPTIONS.shot_noise(digit, new Random(2));
    expect(out.every((v) => Math.abs(v * 3 - Math.round(v * 3)) < 1e-6)).toBe(true);
  });

  it('gaussian noise has std σ ∈ {0.08, 0.12, 0.18, 0.26, 0.38} for severities 1..5 on mid grey', () => {
    const grey = new Float32Array(SIDE * SIDE).fill(0.5);
    [0.08, 0.12, 0.18, 0.26, 0.38].forEach((sigma, index) => {
      let squares = 0;
      for (let seed = 0; seed < 20; seed++) {
        const out = CORRUPTIONS.gaussian_noise(grey, new Random(seed), (index + 1) as 1 | 2 | 3 | 4 | 5);
        for (const v of out) squares += (v - 0.5) ** 2;
      }
      const std = Math.sqrt(squares / (20 * grey.length));
      expect(Math.abs(std / clippedStd(sigma) - 1)).toBeLessThan(0.05);
    });
  });

  it('stripe inverts the 7 outer columns on each side and is its own inverse', () => {
    const out = CORRUPTIONS.stripe(digit, new Random(0));
    expect(out[0]).toBe(1 - digit[0]!);
    expect(out[14 * SIDE + 14]).toBe(digit[14 * SIDE + 14]);
    const twice = CORRUPTIONS.stripe(out, new Random(0));
    expect(twice.every((v, i) => Math.abs(v - digit[i]!) < 1e-6)).toBe(true); // f32 rounding of 1 − x
  });

  it('fog lowers contrast: background lifted, the brightest pixel no brighter', () => {
    const out = CORRUPTIONS.fog(digit, new Random(4));
    const background = Array.from(digit.keys()).filter((i) => digit[i] === 0);
    const lifted = background.reduce((acc, i) => acc + out[i]!, 0) / background.length;
    expect(lifted).toBeGreaterThan(0.1);
    expect(Math.max(...out)).toBeLessThanOrEqual(Math.max(...digit) + 1e-6);
  });

  it('dotted line and zigzag only add ink', () => {
    for (const name of ['dotted_line', 'zigzag'] as const) {
      const out = CORRUPTIONS[name](digit, new Random(5));
      expect(out.every((v, i) => v >= digit[i]!)).toBe(true);
    }
  });
});

describe('corruptDataset', () => {
  it('image i uses Random(deriveSeed(seed, name index, startIndex + i)), so subsets agree', () => {
    for (const name of ['fog', 'glass_blur', 'rotate'] as const) {
      const all = corruptDataset(digits, name, { seed: 42 });
      const nameIndex = CORRUPTION_NAMES.indexOf(name);
      const i = 5;
      const alone = CORRUPTIONS[name](digits.images.subarray(i * 784, (i + 1) * 784), new Random(deriveSeed(42, nameIndex, i)));
      expect(Array.from(all.images.subarray(i * 784, (i + 1) * 784))).toEqual(Array.from(alone));
      const part = corruptDataset(subset(digits, 3, 10), name, { seed: 42, startIndex: 3 });
      expect(Array.from(part.images)).toEqual(Array.from(all.images.subarray(3 * 784, 13 * 784)));
      expect(Array.from(part.labels)).toEqual(Array.from(digits.labels.subarray(3, 13)));
    }
  });

  it('returns a new dataset with the same labels and shape and uses the severity', () => {
    const mild = corruptDataset(digits, 'gaussian_noise', { seed: 1, severity: 1 });
    const strong = corruptDataset(digits, 'gaussian_noise', { seed: 1 });
    expect(mild.count).toBe(digits.count);
    expect(mild.shape).toEqual([1, 28, 28]);
    expect(Array.from(mild.labels)).toEqual(Array.from(digits.labels));
    expect(mild.labels).not.toBe(digits.labels);
    expect(DEFAULT_SEVERITY.gaussian_noise).toBe(5);
    expect(meanAbsDifference(strong.images, digits.images)).toBeGreaterThan(2 * meanAbsDifference(mild.images, digits.images));
  });

  it('rejects wrong shapes, normalized data, unknown names and severities where none exist', () => {
    const tiny: Dataset = { images: new Float32Array(2 * 16), labels: new Uint32Array(2), count: 2, shape: [1, 4, 4] };
    expect(() => corruptDataset(tiny, 'fog', { seed: 1 })).toThrow('corruptDataset: images have shape [1, 4, 4] but MNIST-C corruptions need [1, 28, 28]');
    expect(() => corruptDataset({ ...digits, normalization: { mean: 0.1307, std: 0.3081 } }, 'fog', { seed: 1 })).toThrow('corrupt the raw [0, 1] images, then normalize');
    expect(() => corruptDataset(digits, 'snow' as CorruptionName, { seed: 1 })).toThrow("corruptDataset: unknown corruption 'snow'");
    expect(() => corruptDataset(digits, 'stripe', { seed: 1, severity: 2 })).toThrow("corruptDataset: 'stripe' has no severity levels");
    expect(() => corruptDataset(digits, 'fog', { seed: -1 })).toThrow('corruptDataset: seed -1 must be a non-negative safe integer');
    expect(() => corruptDataset(digits, 'fog', { seed: 1, startIndex: 0.5 })).toThrow('startIndex 0.5');
  });

  it('is fast: 500 images × 16 corruptions in under 10 s (all 10,000 test images take ~10 s in Node)', () => {
    const many = subset(testSet, 0, 500);
    const start = performance.now();
    for (const name of CORRUPTION_NAMES) corruptDataset(many, name, { seed: 3 });
    expect(performance.now() - start).toBeLessThan(10_000);
  });
});
