/** MNIST-C corruptions are defined on single 28×28 images; these helpers share that frame. */
export const SIDE = 28;
export const PIXELS = SIDE * SIDE;
/** The image centre in pixel coordinates, kept fixed by the affine corruptions (as in MNIST-C). */
export const CENTRE = (SIDE - 1) / 2;

/** Throws unless `image` is one 28×28 image (784 floats). `who` names the caller. */
export function checkImage(image: Float32Array, who: string): void {
  if (image.length !== PIXELS) throw new Error(`${who}: expected one 28×28 image (${PIXELS} floats), got ${image.length} floats`);
}

/** float64 working copy of an image, so chained filters do not round to f32 at every step. */
export function toFloat64(image: ArrayLike<number>): Float64Array {
  return Float64Array.from(image);
}

/** The final image: values clipped to [0, 1] and stored as f32. */
export function clipToImage(values: ArrayLike<number>): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.min(1, Math.max(0, values[i]!));
  return out;
}

/** Uniform integer in low..high−1 (numpy's `randint(low, high)`). */
export function randomInteger(random: { uniform(): number }, low: number, high: number): number {
  return low + Math.floor(random.uniform() * (high - low));
}

/** −1 or +1 with equal probability (numpy's `choice([-1, 1])`). */
export function randomSign(random: { uniform(): number }): number {
  return random.uniform() < 0.5 ? -1 : 1;
}
