// Demo settings from the URL (?quick=1&images=256&epochs=1&...), with defaults per mode.
// `quick` picks tiny sizes and starts at once (for tests and a first look); without it the
// page waits for the Train button.

const DEFAULTS = {
  full: { images: 10000, testImages: 2000, epochs: 5, batch: 64, seed: 1 },
  quick: { images: 1024, testImages: 500, epochs: 2, batch: 32, seed: 1 },
};

/** Upper bounds that keep a typo from asking for more than MNIST has. */
const LIMITS = { images: 60000, testImages: 10000, epochs: 100, batch: 1024, seed: 2 ** 31 };

/** Distillation and attack knobs, shown but disabled until those parts exist. */
export const FUTURE_DEFAULTS = { temperature: 4, alpha: 0.1, epsilon: 0.1 };

/**
 * Reads the settings from a query string; bad values are replaced by the defaults and
 * listed in `problems` so the page can say so.
 * @example readSettings('?quick=1&epochs=1') // { quick: true, epochs: 1, images: 1024, ... }
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
  if (settings.images < settings.batch) {
    problems.push(`images=${settings.images} is less than one batch of ${settings.batch}; using ${settings.batch}`);
    settings.images = settings.batch;
  }
  return { settings, problems };
}
