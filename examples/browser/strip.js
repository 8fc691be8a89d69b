// The adversarial strip: for each shown test digit, the clean image, the FGSM perturbation
// and the adversarial image, in three rows, with the model's prediction before and after.

import { FONT, prepare } from './canvas.js';

const SCALE = 2;
const SIZE = 28 * SCALE;
const CELL = SIZE + 22;
const LABEL_WIDTH = 215;
const HEADER = 22;
const CAPTION = 18;
const RIGHT = '#187a2f';
const WRONG = '#c0392b';

/** Puts a 28×28 image whose pixel p has grey level shade(p) (0 black .. 255 white) at (x, y). */
function drawImage(g, scratch, shade, x, y) {
  const image = scratch.getContext('2d').createImageData(28, 28);
  for (let p = 0; p < 784; p++) {
    const v = Math.round(shade(p));
    image.data.set([v, v, v, 255], p * 4);
  }
  scratch.getContext('2d').putImageData(image, 0, 0);
  g.imageSmoothingEnabled = false;
  g.drawImage(scratch, x, y, SIZE, SIZE);
  g.strokeStyle = '#ccc';
  g.strokeRect(x - 0.5, y - 0.5, SIZE + 1, SIZE + 1);
}

function caption(g, text, color, x, y) {
  g.fillStyle = color;
  g.textAlign = 'center';
  g.textBaseline = 'top';
  g.fillText(text, x + SIZE / 2, y + SIZE + 3);
}

/** Canvas height (CSS pixels) the strip needs. */
export const STRIP_HEIGHT = HEADER + 3 * (SIZE + CAPTION) + 4;

/**
 * Draws `count` digits: clean x (ink dark), the perturbation x′ − x (mid grey is 0; black
 * +ε, white −ε) and x′, captioned with `before` and `after` predictions (green when equal to
 * the label, red otherwise). Images are raw pixels in [0, 1], 784 per digit.
 *
 * @example drawAdversarialStrip(canvas, { title: 'student', epsilon: 0.1, clean, adversarial, labels, before, after, count: 8 });
 */
export function drawAdversarialStrip(canvas, { title, epsilon, clean, adversarial, labels, before, after, count }) {
  const { g, width, height } = prepare(canvas);
  const fit = Math.min(count, Math.floor((width - LABEL_WIDTH) / CELL));
  const scratch = document.createElement('canvas');
  scratch.width = 28;
  scratch.height = 28;
  g.fillStyle = '#fff';
  g.fillRect(0, 0, width, height);
  g.font = `bold ${FONT}`;
  g.fillStyle = '#222';
  g.textAlign = 'left';
  g.textBaseline = 'top';
  g.fillText(title, 8, 4);
  g.font = FONT;
  const rows = [
    ['clean image x', 'prediction before'],
    ['perturbation x′ − x', `black +${epsilon}, grey 0, white −${epsilon}`],
    ['adversarial x′', 'prediction after'],
  ];
  rows.forEach(([name, detail], r) => {
    const y = HEADER + r * (SIZE + CAPTION) + SIZE / 2;
    g.fillStyle = '#222';
    g.textAlign = 'left';
    g.textBaseline = 'bottom';
    g.fillText(name, 8, y);
    g.fillStyle = '#666';
    g.textBaseline = 'top';
    g.fillText(detail, 8, y + 2);
  });
  const scaleShown = epsilon > 0 ? 127.5 / epsilon : 0;
  for (let n = 0; n < fit; n++) {
    const x = LABEL_WIDTH + n * CELL;
    const at = n * 784;
    const yRow = (r) => HEADER + r * (SIZE + CAPTION);
    drawImage(g, scratch, (p) => 255 * (1 - clean[at + p]), x, yRow(0));
    caption(g, `label ${labels[n]} → ${before[n]}`, before[n] === labels[n] ? RIGHT : WRONG, x, yRow(0));
    drawImage(g, scratch, (p) => 127.5 - scaleShown * (adversarial[at + p] - clean[at + p]), x, yRow(1));
    drawImage(g, scratch, (p) => 255 * (1 - adversarial[at + p]), x, yRow(2));
    caption(g, `→ ${after[n]}`, after[n] === labels[n] ? RIGHT : WRONG, x, yRow(2));
  }
}
