// IEEE-754 binary16 (f16) on the host, for uploading and reading f16 tensors: Node 20 has
// no Float16Array, and the GPU side packs two f16 values per 32-bit word, lower half first
// (WGSL's pack2x16float / unpack2x16float order), which is the little-endian Uint16Array order.

/** The largest finite f16, 65504; anything from 65520 up rounds to infinity. */
export const F16_MAX = 65504;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The f16 bits nearest to `value` (round to nearest, ties to even), as the GPU's cast rounds. */
export function halfBits(value: number): number {
  f32[0] = value;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal (or zero): the 24-bit significand shifted into 10 bits, rounded.
    if (e < -10) return sign;
    const significand = mantissa | 0x800000;
    const shift = 14 - e;
    const half = significand >>> shift;
    const rest = significand & ((1 << shift) - 1);
    const midpoint = 1 << (shift - 1);
    return sign | (half + (rest > midpoint || (rest === midpoint && (half & 1)) ? 1 : 0));
  }
  const half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa moves to the next exponent (up to infinity), as it should.
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && (half & 1)) ? 1 : 0));
}

/** The number that f16 bits stand for. */
export function halfValue(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** `values` rounded to f16, packed two per word (an odd count ends with a zero half). */
export function packHalves(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length + (values.length % 2));
  for (let i = 0; i < values.length; i++) out[i] = halfBits(values[i]!);
  return out;
}

/** The first `count` f16 values of packed halves, as f32 (exact: every f16 is an f32). */
export function unpackHalves(halves: Uint16Array, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = halfValue(halves[i]!);
  return out;
}

/** `values` as f16 would hold them (each rounded to the nearest f16), for references in tests. */
export function roundToHalf(values: ArrayLike<number>): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = halfValue(halfBits(values[i]!));
  return out;
}
