// attention_transfer.wgsl — spatial attention maps (Zagoruyko & Komodakis, attention
// transfer) and their backward pass.
// For features A [N, C, H, W] (NCHW, row-major) and P = H·W positions:
//   attention_map:  Q[n, p] = Σ_c A[n, c, p]²,  q[n, p] = Q[n, p] / ν[n],
//                   ν[n] = max(‖Q[n, ·]‖₂, EPS)   (EPS as in PyTorch's F.normalize)
//   attention_map_backward_positions:
//                   dQ[n, p] = (dq[n, p] − q[n, p]·Σ_p' q[n, p']·dq[n, p']) / ν[n]
//                   (dQ = dq / EPS where the norm was clamped)
//   attention_map_backward_features:  dA[n, c, p] = 2·A[n, c, p]·dQ[n, p]
// ‖Q‖ is computed as max Q · ‖Q / max Q‖ so squares neither overflow nor underflow.
// Sums are pairwise (a binary counter of partial sums per invocation, then a tree): Kahan
// compensation is optimised away by some drivers (Mesa lavapipe), pairwise sums cannot be.
// Bindings: params {batch, channels, positions} at binding 0; forward: features (read),
// q [N, P] (write), norms ν [N] (write); backward: dq, q, norms, features (read),
// d_positions dQ [N, P] (write), d_features dA [N, C, H, W] (write).
// Dispatch: attention_map and attention_map_backward_positions: one workgroup of 256 per
// sample (strided over positions); attention_map_backward_features: one invocation per
// element of A, 256 per workgroup, folded into 2-D past 65535 workgroups (x + y · 256 · nx).
// Shared parts (shaders/lib/): pairwise_sum, workgroup_reduce, grid.

struct Params { batch: u32, channels: u32, positions: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> features: array<f32>;
@group(0) @binding(2) var<storage, read> dq: array<f32>;
@group(0) @binding(3) var<storage, read> q_in: array<f32>;
@group(0) @binding(4) var<storage, read> norms_in: array<f32>;
@group(0) @binding(5) var<storage, read_write> q: array<f32>;
@group(0) @binding(6) var<storage, read_write> norms: array<f32>;
@group(0) @binding(7) var<storage, read_write> d_positions: array<f32>;
@group(0) @binding(8) var<storage, read_write> d_features: array<f32>;

const WG = 256u;
alias ReduceValue = f32;
const PAIRWISE_LEVELS = 32u;
const EPS = 1e-12;

@compute @workgroup_size(WG)
fn attention_map(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let n = grid_group(wid, groups);
  if (n >= params.batch) { return; } // uniform per workgroup, so barriers stay uniform
  let P = params.positions;
  let base = n * params.channels * P;
  var local_max = 0.0;
  for (var p = lid; p < P; p += WG) {
    var energy = PairwiseSum(); // explicit zeroing: lavapipe kept a bare `var x: T;` across iterations
    for (var c = 0u; c < params.channels; c++) {
      let a = features[base + c * P + p];
      pairwise_add(&energy, a * a);
    }
    let Q = pairwise_total(&energy);
    q[n * P + p] = Q; // unnormalised for now; this invocation rescales it below
    local_max = max(local_max, Q);
  }
  let largest = workgroup_max(lid, local_max);
  let unit = select(1.0 / largest, 1.0, largest == 0.0);
  var squares = PairwiseSum();
  for (var p = lid; p < P; p += WG) {
    let scaled = q[n * P + p] * unit;
    pairwise_add(&squares, scaled * scaled);
  }
  let norm = max(largest * sqrt(workgroup_sum(lid, pairwise_total(&squares))), EPS);
  for (var p = lid; p < P; p += WG) { q[n * P + p] = q[n * P + p] / norm; }
  if (lid == 0u) { norms[n] = norm; }
}

@compute @workgroup_size(WG)
fn attention_map_backward_positions(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let n = grid_group(wid, groups);
  if (n >= params.batch) { return; }
  let P = params.positions;
  var dot = PairwiseSum();
  for (var p = lid; p < P; p += WG) { pairwise_add(&dot, q_in[n * P + p] * dq[n * P + p]); }
  let norm = norms_in[n];
  // Where the norm was clamped to EPS, q = Q / EPS is linear in Q: no projection.
  let projection = select(workgroup_sum(lid, pairwise_total(&dot)), 0.0, norm <= EPS);
  for (var p = lid; p < P; p += WG) {
    d_positions[n * P + p] = (dq[n * P + p] - q_in[n * P + p] * projection) / norm;
  }
}

@compute @workgroup_size(256)
fn attention_map_backward_features(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = grid_index(gid, groups, 256u);
  let P = params.positions;
  if (i >= params.batch * params.channels * P) { return; }
  let n = i / (params.channels * P);
  d_features[i] = 2.0 * features[i] * d_positions[n * P + i % P];
}
