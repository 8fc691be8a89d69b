// The demo page's URL settings (examples/browser/settings.js, plain JavaScript): defaults per
// mode, the distillation and attack knobs T, hardWeight and eps, and bad values replaced and named.
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain JavaScript shared with the browser page, no type declarations.
import { readSettings } from '../../examples/browser/settings.js';

describe('the demo page settings (examples/browser/settings.js)', () => {
  it('reads T, hardWeight and eps next to the training sizes', () => {
    const { settings, problems } = readSettings('?quick=1&images=256&epochs=2&T=2.5&hardWeight=0&eps=0.3');
    expect(settings).toEqual({ quick: true, autostart: true, images: 256, testImages: 500, epochs: 2, batch: 32, seed: 1, T: 2.5, hardWeight: 0, eps: 0.3 });
    expect(problems).toEqual([]);
  });

  it('uses the defaults without parameters and waits for the Train button', () => {
    const { settings, problems } = readSettings('');
    expect(settings).toMatchObject({ quick: false, autostart: false, images: 10000, T: 4, hardWeight: 0.1, eps: 0.1 });
    expect(problems).toEqual([]);
  });

  it('replaces out-of-range or non-numeric values by the defaults and says so', () => {
    const { settings, problems } = readSettings('?T=0&hardWeight=1.5&eps=abc&epochs=0.5');
    expect(settings).toMatchObject({ T: 4, hardWeight: 0.1, eps: 0.1, epochs: 5 });
    expect(problems).toEqual([
      'epochs=0.5 is not an integer in 1..100; using 5',
      'T=0 is not a number in 0.1..100; using 4',
      'hardWeight=1.5 is not a number in 0..1; using 0.1',
      'eps=abc is not a number in 0..1; using 0.1',
    ]);
  });
});
