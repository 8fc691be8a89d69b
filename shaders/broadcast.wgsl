// broadcast.wgsl — numpy-style broadcasting, repeats and strided slices, for imported models.
// Every tensor is seen through up to RANK = 6 axes, right-aligned (leading axes of extent 1);
// TypeScript merges and drops axes first (src/ops/broadcast.ts), so larger ranks fit.
//   binary:          out[c] = f(a[Σ c_k·a_stride_k], b[Σ c_k·b_stride_k]) over the output
//                    coordinates c (a stride is 0 on an axis the operand broadcasts along;
//                    `rank`: the trailing axes in use, the others are padding).
//                    kind: 0 add, 1 sub, 2 mul, 3 div, 4 pow, 5 max, 6 min,
//                    7 prelu (a ≥ 0 ? a : b·a)
//   binary_backward: out[c] = dc[c] · ∂f/∂a (which 0) or ∂f/∂b (which 1) at that element, over
//                    the output's shape; the sum over broadcast axes is sum_repeats' job.
//                    Ties of max/min give half the gradient to each operand (as PyTorch);
//                    ∂pow/∂b is 0 where a = 0 and b ≥ 0 (as PyTorch).
//   repeat:          out[c] = factor · x[Σ (c_k mod in_dim_k)·in_stride_k]: numpy broadcast
//                    (in_dim 1) and ONNX Tile (out_dim a multiple of in_dim) in one.
//   sum_repeats:     out[j] = factor · Σ_r x[Σ j_k·kept_stride_k + Σ r_k·rep_stride_k]:
//                    repeat's adjoint; with rep extent = the broadcast axis, a reduction.
//                    Sums run in blocks of 256 terms, then over blocks (error ~ (256 + n/256)
//                    roundings instead of n).
//   slice:           out[c] = x[Σ (start_k + c_k·step_k)·in_stride_k]  (steps may be negative)
//   unslice:         out[c] = dy[q] where every c_k = start_k + q_k·step_k with 0 ≤ q_k <
//                    dy_dim_k, else 0 (slice's gradient)
//   gather_rows:     out[r, j] = table[indices[r], j] for a table [rows, row] (indices are f32
//                    holding integers; negative ones count from the end; one outside the
//                    table gives zeros): an embedding lookup
// Bindings: one uniform per entry at binding 0, inputs (a, b, dc, x; table, indices) and out.
// Flat row-major f32.
// Dispatch: one invocation per output element, 256 per workgroup (sum_repeats: 64), grid
// folded into 2-D past 65535 workgroups (index = x + y · workgroup size · nx).

const RANK = 6u;

struct BinaryParams {
  size: u32, kind: u32, which: u32, rank: u32,
  dim_0: u32, dim_1: u32, dim_2: u32, dim_3: u32, dim_4: u32, dim_5: u32,
  a_stride_0: u32, a_stride_1: u32, a_stride_2: u32, a_stride_3: u32, a_stride_4: u32, a_stride_5: u32,
  b_stride_0: u32, b_stride_1: u32, b_stride_2: u32, b_stride_3: u32, b_stride_4: u32, b_stride_5: u32,
}

struct RepeatParams {
  size: u32, factor: f32,
  dim_0: u32, dim_1: u32, dim_2: u32, dim_3: u32, dim_4: u32, dim_5: u32,
  in_dim_0: u32, in_dim_1: u32, in_dim_2: u32, in_dim_3: u32, in_dim_4: u32, in_dim_5: u32,
  in_stride_0: u32, in_stride_1: u32, in_stride_2: u32, in_stride_3: u32, in_stride_4: u32, in_stride_5: u32,
}

struct SumParams {
  size: u32, count: u32, factor: f32,
  kept_0: u32, kept_1: u32, kept_2: u32, kept_3: u32, kept_4: u32, kept_5: u32,
  kept_stride_0: u32, kept_stride_1: u32, kept_stride_2: u32, kept_stride_3: u32, kept_stride_4: u32, kept_stride_5: u32,
  rep_0: u32, rep_1: u32, rep_2: u32, rep_3: u32, rep_4: u32, rep_5: u32,
  rep_stride_0: u32, rep_stride_1: u32, rep_stride_2: u32, rep_stride_3: u32, rep_stride_4: u32, rep_stride_5: u32,
}

struct SliceParams {
  size: u32,
  dim_0: u32, dim_1: u32, dim_2: u32, dim_3: u32, dim_4: u32, dim_5: u32,
  start_0: i32, start_1: i32, start_2: i32, start_3: i32, start_4: i32, start_5: i32,
  step_0: i32, step_1: i32, step_2: i32, step_3: i32, step_4: i32, step_5: i32,
  // slice: the input's strides; unslice: the extents of dy (the slice).
  other_0: u32, other_1: u32, other_2: u32, other_3: u32, other_4: u32, other_5: u32,
}

@group(0) @binding(0) var<uniform> binary_params: BinaryParams;
@group(0) @binding(0) var<uniform> repeat_params: RepeatParams;
@group(0) @binding(0) var<uniform> sum_params: SumParams;
@group(0) @binding(0) var<uniform> slice_params: SliceParams;

@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> dc: array<f32>;
@group(0) @binding(4) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

fn flat_index(gid: vec3u, groups: vec3u, size: u32) -> u32 {
  return gid.x + gid.y * groups.x * size;
}

/**
 * a^b as numpy computes it: integer exponents by repeated squaring (exact for small ones,
 * and defined for negative bases), others through pow (NaN for a negative base).
 */
fn power(base: f32, e: f32) -> f32 {
  if (e == 0.0) { return 1.0; }
  if (e == round(e) && abs(e) <= 64.0) {
    var n = u32(abs(e));
    var acc = 1.0;
    var p = base;
    while (n > 0u) {
      if ((n & 1u) == 1u) { acc *= p; }
      p *= p;
      n >>= 1u;
    }
    return select(acc, 1.0 / acc, e < 0.0);
  }
  // 0^e: 0 for e > 0, +∞ for e < 0 (1/|0| at run time: WGSL has no infinite constants).
  if (base == 0.0) { return select(1.0 / abs(base), 0.0, e > 0.0); }
  return pow(base, e);
}

fn binary_forward(kind: u32, u: f32, v: f32) -> f32 {
  switch kind {
    case 0u: { return u + v; }
    case 1u: { return u - v; }
    case 2u: { return u * v; }
    case 3u: { return u / v; }
    case 4u: { return power(u, v); }
    case 5u: { return max(u, v); }
    case 6u: { return min(u, v); }
    default: { return select(v * u, u, u >= 0.0); }
  }
}

fn binary_derivative(kind: u32, which: u32, u: f32, v: f32) -> f32 {
  let first = which == 0u;
  switch kind {
    case 0u: { return 1.0; }
    case 1u: { return select(-1.0, 1.0, first); }
    case 2u: { return select(u, v, first); }
    case 3u: { return select(-u / (v * v), 1.0 / v, first); }
    case 4u: {
      if (first) { return v * power(u, v - 1.0); }
      if (u == 0.0 && v >= 0.0) { return 0.0; }
      return power(u, v) * log(u);
    }
    case 5u: {
      if (u == v) { return 0.5; }
      return select(select(0.0, 1.0, v > u), select(0.0, 1.0, u > v), first);
    }
    case 6u: {
      if (u == v) { return 0.5; }
      return select(select(0.0, 1.0, v < u), select(0.0, 1.0, u < v), first);
    }
    default: { return select(select(u, 0.0, u >= 0.0), select(v, 1.0, u >= 0.0), first); }
  }
}

/** The flat offsets into a and b of output element i. */
fn binary_offsets(i: u32) -> vec2u {
  let p = binary_params;
  var dims = array<u32, RANK>(p.dim_0, p.dim_1, p.dim_2, p.dim_3, p.dim_4, p.dim_5);
  var sa = array<u32, RANK>(p.a_stride_0, p.a_stride_1, p.a_stride_2, p.a_stride_3, p.a_stride_4, p.a_stride_5);
  var sb = array<u32, RANK>(p.b_stride_0, p.b_stride_1, p.b_stride_2, p.b_stride_3, p.b_stride_4, p.b_stride_5);
  var rest = i;
  var offsets = vec2u(0u, 0u);
  // Only the axes in use (the leading ones are padding of extent 1).
  for (var k = i32(RANK) - 1; k >= i32(RANK - p.rank); k--) {
    let c = rest % dims[k];
    rest /= dims[k];
    offsets += c * vec2u(sa[k], sb[k]);
  }
  return offsets;
}

@compute @workgroup_size(256)
fn binary(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups, 256u);
  if (i >= binary_params.size) { return; }
  let o = binary_offsets(i);
  out[i] = binary_forward(binary_params.kind, a[o.x], b[o.y]);
}

@compute @workgroup_size(256)
fn binary_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups, 256u);
  if (i >= binary_params.size) { return; }
  let o = binary_offsets(i);
  out[i] = dc[i] * binary_derivative(binary_params.kind, binary_params.which, a[o.x], b[o.y]);
}

@compute @workgroup_size(256)
fn repeat(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups, 256u);
  let p = repeat_params;
  if (i >= p.size) { return; }
  var dims = array<u32, RANK>(p.dim_0, p.dim_1, p.dim_2, p.dim_3, p.dim_4, p.dim_5);
  var in_dims = array<u32, RANK>(p.in_dim_0, p.in_dim_1, p.in_dim_2, p.in_dim_3, p.in_dim_4, p.in_dim_5);
  var strides = array<u32, RANK>(p.in_stride_0, p.in_stride_1, p.in_stride_2, p.in_stride_3, p.in_stride_4, p.in_stride_5);
  var rest = i;
  var offset = 0u;
  for (var k = i32(RANK) - 1; k >= 0; k--) {
    let c = rest % dims[k];
    rest /= dims[k];
    offset += (c % in_dims[k]) * strides[k];
  }
  out[i] = x[offset] * p.factor;
}

const BLOCK = 256u;

@compute @workgroup_size(64)
fn sum_repeats(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let j = flat_index(gid, groups, 64u);
  let p = sum_params;
  if (j >= p.size) { return; }
  var kept = array<u32, RANK>(p.kept_0, p.kept_1, p.kept_2, p.kept_3, p.kept_4, p.kept_5);
  var kept_strides = array<u32, RANK>(p.kept_stride_0, p.kept_stride_1, p.kept_stride_2, p.kept_stride_3, p.kept_stride_4, p.kept_stride_5);
  var reps = array<u32, RANK>(p.rep_0, p.rep_1, p.rep_2, p.rep_3, p.rep_4, p.rep_5);
  var rep_strides = array<u32, RANK>(p.rep_stride_0, p.rep_stride_1, p.rep_stride_2, p.rep_stride_3, p.rep_stride_4, p.rep_stride_5);
  var rest = j;
  var base = 0u;
  for (var k = i32(RANK) - 1; k >= 0; k--) {
    base += (rest % kept[k]) * kept_strides[k];
    rest /= kept[k];
  }
  // An odometer over the repeat coordinates: the offset moves by one stride per term, and
  // an axis that wraps takes back its whole extent.
  var coord = array<u32, RANK>(0u, 0u, 0u, 0u, 0u, 0u);
  var offset = 0u;
  var total = 0.0;
  var chunk = 0.0;
  for (var t = 0u; t < p.count; t++) {
    chunk += x[base + offset];
    if ((t + 1u) % BLOCK == 0u) {
      total += chunk;
      chunk = 0.0;
    }
    for (var k = i32(RANK) - 1; k >= 0; k--) {
      coord[k] += 1u;
      offset += rep_strides[k];
      if (coord[k] < reps[k]) { break; }
      offset -= reps[k] * rep_strides[k];
      coord[k] = 0u;
    }
  }
  out[j] = (total + chunk) * p.factor;
}

fn slice_dims() -> array<u32, RANK> {
  let p = slice_params;
  return array<u32, RANK>(p.dim_0, p.dim_1, p.dim_2, p.dim_3, p.dim_4, p.dim_5);
}
fn slice_starts() -> array<i32, RANK> {
  let p = slice_params;
  return array<i32, RANK>(p.start_0, p.start_1, p.start_2, p.start_3, p.start_4, p.start_5);
}
fn slice_steps() -> array<i32, RANK> {
  let p = slice_params;
  return array<i32, RANK>(p.step_0, p.step_1, p.step_2, p.step_3, p.step_4, p.step_5);
}
fn slice_other() -> array<u32, RANK> {
  let p = slice_params;
  return array<u32, RANK>(p.other_0, p.other_1, p.other_2, p.other_3, p.other_4, p.other_5);
}

@compute @workgroup_size(256)
fn slice(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups, 256u);
  if (i >= slice_params.size) { return; }
  var dims = slice_dims();
  var starts = slice_starts();
  var steps = slice_steps();
  var strides = slice_other();
  var rest = i;
  var offset = 0u;
  for (var k = i32(RANK) - 1; k >= 0; k--) {
    let c = rest % dims[k];
    rest /= dims[k];
    offset += u32(starts[k] + i32(c) * steps[k]) * strides[k];
  }
  out[i] = x[offset];
}

@compute @workgroup_size(256)
fn unslice(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups, 256u);
  if (i >= slice_params.size) { return; }
  var dims = slice_dims();
  var starts = slice_starts();
  var steps = slice_steps();
  var dy_dims = slice_other();
  var rest = i;
  var offset = 0u;
  var stride = 1u;
  var inside = true;
  for (var k = i32(RANK) - 1; k >= 0; k--) {
    let c = i32(rest % dims[k]);
    rest /= dims[k];
    let from_start = c - starts[k];
    let q = from_start / steps[k];
    inside = inside && q * steps[k] == from_start && q >= 0 && q < i32(dy_dims[k]);
    offset += u32(max(q, 0)) * stride;
    stride *= dy_dims[k];
  }
  out[i] = select(0.0, dc[min(offset, arrayLength(&dc) - 1u)], inside);
}

struct GatherParams { size: u32, rows: u32, row: u32 }

@group(0) @binding(0) var<uniform> gather_params: GatherParams;
@group(0) @binding(6) var<storage, read> table: array<f32>;
@group(0) @binding(7) var<storage, read> indices: array<f32>;

@compute @workgroup_size(256)
fn gather_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups, 256u);
  let p = gather_params;
  if (i >= p.size) { return; }
  let r = i / p.row;
  var index = i32(round(indices[r]));
  if (index < 0) { index += i32(p.rows); }
  let inside = index >= 0 && index < i32(p.rows);
  out[i] = select(0.0, table[u32(clamp(index, 0, i32(p.rows) - 1)) * p.row + i % p.row], inside);
}
