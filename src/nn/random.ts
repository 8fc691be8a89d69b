/**
 * A small seeded generator (mulberry32 for uniforms, Box–Muller for normals) so weights and
 * data orders are the same for the same seed on any machine.
 */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  normal(): number {
    const u = 1 - this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T extends { length: number; [i: number]: unknown }>(items: T): T {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.uniform() * (i + 1));
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }
}

/** He (Kaiming) normal init for a [fanIn, fanOut] weight: N(0, 2 / fanIn). */
export function heNormal(random: Random, fanIn: number, fanOut: number): Float32Array {
  const out = new Float32Array(fanIn * fanOut);
  const std = Math.sqrt(2 / fanIn);
  for (let i = 0; i < out.length; i++) out[i] = random.normal() * std;
  return out;
}

/** Glorot (Xavier) uniform init: U(±√(6 / (fanIn + fanOut))). */
export function glorotUniform(random: Random, fanIn: number, fanOut: number): Float32Array {
  const out = new Float32Array(fanIn * fanOut);
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  for (let i = 0; i < out.length; i++) out[i] = (random.uniform() * 2 - 1) * limit;
  return out;
}
