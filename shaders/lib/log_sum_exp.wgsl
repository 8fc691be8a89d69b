// lib/log_sum_exp.wgsl — max-subtracted log-sum-exp of a row of values, so values of any
// magnitude are safe: m = max v, then Σ e^(v − m) (every term ≤ 1), lse = m + log Σ.
// The loops visit classes c = first, first + step, ... < count: (0, 1) for one invocation per
// row, (lid, WG) for a workgroup per row (then reduce m and the sums over the workgroup).
// Needs from the including shader: `fn lse_input(base: u32, c: u32, source: u32) -> f32`, the
// value of class c of the row at `base` (`source` picks an input where there are several,
// e.g. student or teacher; others ignore it), and lib/numbers.wgsl.

// No class excluded from lse_exp_sums' second sum.
const NO_CLASS = 0xffffffffu;

// max over the visited classes (LOWEST_F32 where there are none).
fn lse_max(base: u32, first: u32, step: u32, count: u32, source: u32) -> f32 {
  var m = LOWEST_F32;
  for (var c = first; c < count; c += step) { m = max(m, lse_input(base, c, source)); }
  return m;
}

// Σ e^(v − m) over the visited classes (x), and over those other than `excluded` (y), each
// added in class order.
fn lse_exp_sums(base: u32, first: u32, step: u32, count: u32, source: u32, m: f32, excluded: u32) -> vec2f {
  var all = 0.0;
  var rest = 0.0;
  for (var c = first; c < count; c += step) {
    let e = exp(lse_input(base, c, source) - m);
    all += e;
    if (c != excluded) { rest += e; }
  }
  return vec2f(all, rest);
}

// log Σ e^v from the maximum m and Σ e^(v − m).
fn lse_finish(m: f32, exp_sum: f32) -> f32 {
  return m + log(exp_sum);
}
