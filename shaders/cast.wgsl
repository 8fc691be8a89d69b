// cast.wgsl — f32 ↔ f16 (IEEE binary16) conversions of flat tensors.
//   f32_to_f16: out = x rounded to the nearest f16 (ties to even); ±∞ from 65520 up (as IEEE
//               rounding gives), NaN stays NaN, tiny values become f16 subnormals or ±0.
//   f16_to_f32: out = x exactly (every f16 is an f32), ±∞ and NaN included.
// Both work on the bits with integer arithmetic, not through pack2x16float/unpack2x16float:
// WGSL leaves those indeterminate outside f16's finite range, and loss scaling needs an
// overflow to show up as ∞ (shaders may also assume floats are finite, so no isnan/isinf).
// Needs no `enable f16`: f16 tensors are packed two per u32 word, element 2i in the low half.
// Bindings: params {size} (elements); x (read), out (write), each as u32 words.
// Dispatch: one invocation per pair of elements, 256 per workgroup, grid folded into 2-D
// past 65535 workgroups (wgslLib.grid): grid1d(ceil(size / 2), 256).

struct Params { size: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;

// The f16 bits nearest to the f32 with these bits (round to nearest, ties to even).
fn half_bits(bits: u32) -> u32 {
  let sign = (bits >> 16u) & 0x8000u;
  let exponent = i32((bits >> 23u) & 0xffu);
  let mantissa = bits & 0x7fffffu;
  if (exponent == 255) { return sign | 0x7c00u | select(0u, 0x200u, mantissa != 0u); }
  let e = exponent - 112; // the f16 exponent field
  if (e >= 31) { return sign | 0x7c00u; }
  if (e <= 0) {
    // Subnormal or zero: the 24-bit significand shifted down to units of 2^-24.
    if (e < -10) { return sign; }
    let significand = mantissa | 0x800000u;
    let shift = u32(14 - e);
    let half = significand >> shift;
    let rest = significand & ((1u << shift) - 1u);
    let midpoint = 1u << (shift - 1u);
    return sign | (half + select(0u, 1u, rest > midpoint || (rest == midpoint && (half & 1u) == 1u)));
  }
  // A carry out of the mantissa moves into the exponent (up to ∞), which is the right rounding.
  let half = (u32(e) << 10u) | (mantissa >> 13u);
  let rest = mantissa & 0x1fffu;
  return sign | (half + select(0u, 1u, rest > 0x1000u || (rest == 0x1000u && (half & 1u) == 1u)));
}

// The f32 bits of the f16 with these bits (exact).
fn float_bits(half: u32) -> u32 {
  let sign = (half & 0x8000u) << 16u;
  let exponent = (half >> 10u) & 0x1fu;
  let mantissa = half & 0x3ffu;
  if (exponent == 0x1fu) { return sign | 0x7f800000u | (mantissa << 13u); }
  if (exponent == 0u) {
    if (mantissa == 0u) { return sign; }
    // Subnormal: normalise, moving the leading 1 to bit 10.
    let lead = firstLeadingBit(mantissa); // 0 … 9
    let shift = 10u - lead;
    return sign | ((113u - shift) << 23u) | (((mantissa << shift) & 0x3ffu) << 13u);
  }
  return sign | ((exponent + 112u) << 23u) | (mantissa << 13u);
}

@compute @workgroup_size(256)
fn f32_to_f16(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let pair = grid_index(gid, groups, 256u);
  let i = 2u * pair;
  if (i >= params.size) { return; }
  var word = half_bits(x[i]);
  if (i + 1u < params.size) { word |= half_bits(x[i + 1u]) << 16u; }
  out[pair] = word;
}

@compute @workgroup_size(256)
fn f16_to_f32(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let pair = grid_index(gid, groups, 256u);
  let i = 2u * pair;
  if (i >= params.size) { return; }
  let word = x[pair];
  out[i] = float_bits(word & 0xffffu);
  if (i + 1u < params.size) { out[i + 1u] = float_bits(word >> 16u); }
}
