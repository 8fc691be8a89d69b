/**
 * Hashes integers into one 32-bit seed (MurmurHash3's mixing steps), so each (seed, epoch,
 * batch, purpose) gets its own well-scattered stream: neighbouring inputs such as epochs 3
 * and 4 give unrelated seeds, and the result is the same on every machine.
 *
 * @example const random = new Random(deriveSeed(seed, epoch, batchIndex));
 */
export function deriveSeed(...parts: number[]): number {
  let hash = 0x9747b28c;
  for (const part of parts) {
    if (!Number.isSafeInteger(part) || part < 0) throw new Error(`deriveSeed: ${part} is not a non-negative safe integer`);
    // Both 32-bit halves, so seeds above 2³² do not collide with their low bits.
    for (const word of [part >>> 0, Math.floor(part / 4294967296) >>> 0]) {
      let k = Math.imul(word, 0xcc9e2d51);
      k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
      hash ^= k;
      hash = (Math.imul((hash << 13) | (hash >>> 19), 5) + 0xe6546b64) | 0;
    }
  }
  hash ^= parts.length;
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}
