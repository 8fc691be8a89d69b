// Demo settings from the URL (?quick=1&images=256&epochs=1&T=4&hardWeight=0.1&eps=0.1...), with
// defaults per mode. `quick` picks tiny sizes and starts at once (for tests and a first
// look); without it the page waits for the Train button.

const DEFAULTS = {
  full: { images: 10000, testImages: 2000, epochs: 5, batch: 64, seed: 1 },
  quick: { images: 1024, testImages: 500, epochs: 2, batch: 32, seed: 1 },
};

/** Upper bounds that keep a typo from asking for more than MNIST has. */
const LIMITS = { images: 60000, testImages: 10000, epochs: 100, batch: 1024, seed: 2 ** 31 };

/**
 * Distillation and attack knobs (same in both modes), as URL parameter → default and allowed
 * range. T: softmax temperature; hardWeight: weight of the hard (label) loss, as in distill; eps: FGSM step in
 * pixel units (pixels in [0, 1]).
 */
export const REAL_SETTINGS = {
  T: { fallback: 4, min: 0.1, max: 100 },
  hardWeight: { fallback: 0.1, min: 0, max: 1 },
  eps: { fallback: 0.1, min: 0, max: 1 },
};

/** Names of every setting the form shows, in URL parameter spelling. */
export const SETTING_NAMES = [...Object.keys(DEFAULTS.full), ...Object.keys(REAL_SETTINGS)];

/**
 * Reads the settings from a query string; bad values are replaced by the defaults and
 * listed in `problems` so the page can say so.
 * @example readSettings('?quick=1&epochs=1&T=2') // { quick: true, epochs: 1, images: 1024, T: 2, ... }
 */
export function readSettings(search) {
  const params = new URLSearchParams(search);
  const quick = params.get('quick') === '1';
  const defaults = quick ? DEFAULTS.quick : DEFAULTS.full;
  const settings = { quick, autostart: quick || params.get('autostart') === '1' };
  const problems = [];
  for (const [name, fallback] of Object.entries(defaults)) {
    const text = params.get(name);
    const value = text === null ? fallback : Number(text);
    const valid = Number.isInteger(value) && value >= (name === 'seed' ? 0 : 1) && value <= LIMITS[name];
    if (!valid) problems.push(`${name}=${text} is not an integer in ${name === 'seed' ? 0 : 1}..${LIMITS[name]}; using ${fallback}`);
    settings[name] = valid ? value : fallback;
  }
  for (const [name, { fallback, min, max }] of Object.entries(REAL_SETTINGS)) {
    const text = params.get(name);
    const value = text === null || text.trim() === '' ? fallback : Number(text);
    const valid = Number.isFinite(value) && value >= min && value <= max;
    if (!valid) problems.push(`${name}=${text} is not a number in ${min}..${max}; using ${fallback}`);
    settings[name] = valid ? value : fallback;
  }
  if (settings.images < settings.batch) {
    problems.push(`images=${settings.images} is less than one batch of ${settings.batch}; using ${settings.batch}`);
    settings.images = settings.batch;
  }
  return { settings, problems };
}
