// lib/random.wgsl — pcg4d (Jarzynski & Olano, "Hash Functions for GPU Rendering", JCGT 2020):
// a counter-based hash of four u32 to four u32, so random numbers are pure functions of
// (element, purpose, step, seed) and the same on any device. Uniforms in [0, 1) are taken
// from the top 24 bits of a lane. Needs nothing from the including shader.

fn pcg4d(input: vec4u) -> vec4u {
  var v = input * 1664525u + 1013904223u;
  v.x += v.y * v.w;
  v.y += v.z * v.x;
  v.z += v.x * v.y;
  v.w += v.y * v.z;
  v ^= v >> vec4u(16u);
  v.x += v.y * v.w;
  v.y += v.z * v.x;
  v.z += v.x * v.y;
  v.w += v.y * v.z;
  return v;
}
