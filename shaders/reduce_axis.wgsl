// reduce_axis.wgsl — sums over one axis of a tensor of any rank, and the broadcast back.
// The tensor is viewed as x [outer, extent, inner] (row-major; extent is the reduced axis,
// outer the product of the axes before it, inner of those after it).
//   sum_axis, sum_axis_wide: out[o, i] = factor · Σ_k x[o, k, i]   (factor 1/extent: mean)
//   broadcast_axis:          out[o, k, i] = factor · x[o, i]       (their gradient)
// Sums are pairwise (a binary counter of partial sums), so n terms lose ~log2(n) roundings;
// Kahan compensation is optimised away by some drivers (Mesa lavapipe), pairwise sums cannot be.
// Bindings: params {outer, extent, inner, factor} at binding 0, x (read), out (write).
// Dispatch: sum_axis: one invocation per output, 64 per workgroup (neighbouring invocations
// read neighbouring addresses when inner > 1); sum_axis_wide: one workgroup of 256 per
// output, strided over the axis then a tree reduction, for long axes and few outputs;
// broadcast_axis: one invocation per output element, 256 per workgroup. Grids past 65535
// workgroups are folded into 2-D (index = x + y · nx · workgroup size).
// Shared parts (shaders/lib/): pairwise_sum, workgroup_reduce, grid.

struct AxisParams { outer: u32, extent: u32, inner: u32, factor: f32 }

@group(0) @binding(0) var<uniform> params: AxisParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

const WG = 256u; // sum_axis_wide's workgroup size
alias ReduceValue = f32;
const PAIRWISE_LEVELS = 32u;

// Index of element k along the axis for output (o, i) = output index `index`.
fn axis_base(index: u32) -> u32 {
  let o = index / params.inner;
  let i = index % params.inner;
  return o * params.extent * params.inner + i;
}

@compute @workgroup_size(64)
fn sum_axis(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = grid_index(gid, groups, 64u);
  if (index >= params.outer * params.inner) { return; }
  let base = axis_base(index);
  var acc = PairwiseSum();
  for (var k = 0u; k < params.extent; k++) { pairwise_add(&acc, x[base + k * params.inner]); }
  out[index] = pairwise_total(&acc) * params.factor;
}

@compute @workgroup_size(WG)
fn sum_axis_wide(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let index = grid_group(wid, groups);
  if (index >= params.outer * params.inner) { return; } // uniform per workgroup
  let base = axis_base(index);
  var acc = PairwiseSum();
  for (var k = lid; k < params.extent; k += WG) { pairwise_add(&acc, x[base + k * params.inner]); }
  let total = workgroup_sum(lid, pairwise_total(&acc));
  if (lid == 0u) { out[index] = total * params.factor; }
}

@compute @workgroup_size(256)
fn broadcast_axis(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = grid_index(gid, groups, 256u);
  let inner = params.inner;
  if (index >= params.outer * params.extent * inner) { return; }
  let o = index / (params.extent * inner);
  let i = index % inner;
  out[index] = x[o * inner + i] * params.factor;
}
