// lib/numbers.wgsl — f32 values that WGSL cannot write as constants or that shaders agree on.
// Needs nothing from the including shader.

// The most negative finite f32: the maximum over no values.
const LOWEST_F32 = -3.4028234663852886e38;

// A quiet NaN, written where an input is invalid (a label ≥ classes) so that it cannot pass
// unnoticed. The bits go through a var so they are not const-folded (NaN is not a valid constant).
fn nan_f32() -> f32 {
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}
