// batch_norm.wgsl — batch normalisation per channel of x viewed as [batch, channels, spatial]
// (NCHW: spatial = H·W; [N, F] features: spatial = 1). Element (n, c, s) is at
// (n·channels + c)·spatial + s; a channel's statistics run over its M = batch·spatial values.
//   batch_norm_train_stats:     per channel, two passes (shifted mean, then Σ(x − mean)²) so
//                               the variance is not a difference of large numbers:
//                               saved_mean = mean, saved_invstd = 1/√(var_biased + eps),
//                               running_mean ← (1 − momentum)·running_mean + momentum·mean,
//                               running_var  ← (1 − momentum)·running_var + momentum·var·M/(M − 1)
//   batch_norm_running_invstd:  saved_invstd = 1/√(running_var + eps)           (evaluation)
//   batch_norm_normalize:       y = (x − mean[c])·invstd[c]·gamma[c] + beta[c]
//   batch_norm_backward_reduce: dbeta[c] = Σ dy,  dgamma[c] = Σ dy·x̂,  x̂ = (x − mean)·invstd
//   batch_norm_backward_data:   dx = gamma·invstd·(dy − dbeta/M − x̂·dgamma/M)   (batch statistics)
//   batch_norm_backward_data_eval: dx = dy·gamma·invstd                         (running statistics)
// Bindings: a uniform at binding 0 per entry (fields named below); per-channel vectors are
// [channels]; x, y, dy, dx are the full tensor. Read-only and written vectors have distinct
// names (saved_mean/mean ...) so no buffer is ever bound both ways.
// Dispatch: the per-channel entries (train_stats, backward_reduce) run one workgroup of 256
// per channel (x + y · nx) with strided loops and tree reductions in workgroup memory;
// running_invstd and the elementwise entries run 256 invocations per workgroup, one per
// channel / element, folded into 2D past 65535 workgroups (index = x + y · 256 · nx).
// Shared parts (shaders/lib/): workgroup_reduce (the tree sums), grid.

struct StatsParams { batch: u32, channels: u32, spatial: u32, momentum: f32, eps: f32 }
struct InvstdParams { channels: u32, eps: f32 }
struct ReduceParams { batch: u32, channels: u32, spatial: u32 }
struct ElementParams { size: u32, channels: u32, spatial: u32 }

@group(0) @binding(0) var<uniform> stats_params: StatsParams;
@group(0) @binding(0) var<uniform> invstd_params: InvstdParams;
@group(0) @binding(0) var<uniform> reduce_params: ReduceParams;
@group(0) @binding(0) var<uniform> element_params: ElementParams;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> mean: array<f32>;
@group(0) @binding(3) var<storage, read> invstd: array<f32>;
@group(0) @binding(4) var<storage, read> gamma: array<f32>;
@group(0) @binding(5) var<storage, read> beta: array<f32>;
@group(0) @binding(6) var<storage, read> dy: array<f32>;
@group(0) @binding(7) var<storage, read> dgamma: array<f32>;
@group(0) @binding(8) var<storage, read> dbeta: array<f32>;
@group(0) @binding(9) var<storage, read> running_var: array<f32>;
@group(0) @binding(10) var<storage, read_write> running_mean_state: array<f32>;
@group(0) @binding(11) var<storage, read_write> running_var_state: array<f32>;
@group(0) @binding(12) var<storage, read_write> saved_mean: array<f32>;
@group(0) @binding(13) var<storage, read_write> saved_invstd: array<f32>;
@group(0) @binding(14) var<storage, read_write> y: array<f32>;
@group(0) @binding(15) var<storage, read_write> dx: array<f32>;
@group(0) @binding(16) var<storage, read_write> dgamma_out: array<f32>;
@group(0) @binding(17) var<storage, read_write> dbeta_out: array<f32>;

const WG = 256u;
alias ReduceValue = f32;

// Address of the j-th value (0 ≤ j < batch·spatial) of channel c.
fn channel_element(c: u32, j: u32, channels: u32, spatial: u32) -> u32 {
  let n = j / spatial;
  return (n * channels + c) * spatial + (j - n * spatial);
}

@compute @workgroup_size(WG)
fn batch_norm_train_stats(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = grid_group(wid, groups);
  let p = stats_params;
  if (c >= p.channels) { return; }
  let count = p.batch * p.spatial;
  // Summing x − (the channel's first value) keeps the sum at the scale of the spread, so a
  // large common offset does not swamp the mean in f32.
  let shift = x[channel_element(c, 0u, p.channels, p.spatial)];
  var acc = 0.0;
  for (var j = lid; j < count; j += WG) { acc += x[channel_element(c, j, p.channels, p.spatial)] - shift; }
  let channel_mean = shift + workgroup_sum(lid, acc) / f32(count);
  var squares = 0.0;
  for (var j = lid; j < count; j += WG) {
    let d = x[channel_element(c, j, p.channels, p.spatial)] - channel_mean;
    squares += d * d;
  }
  let biased_var = workgroup_sum(lid, squares) / f32(count);
  if (lid == 0u) {
    saved_mean[c] = channel_mean;
    saved_invstd[c] = 1.0 / sqrt(biased_var + p.eps);
    let unbiased_var = biased_var * f32(count) / f32(count - 1u);
    running_mean_state[c] = (1.0 - p.momentum) * running_mean_state[c] + p.momentum * channel_mean;
    running_var_state[c] = (1.0 - p.momentum) * running_var_state[c] + p.momentum * unbiased_var;
  }
}

@compute @workgroup_size(WG)
fn batch_norm_running_invstd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let c = grid_index(gid, groups, WG);
  if (c >= invstd_params.channels) { return; }
  saved_invstd[c] = 1.0 / sqrt(running_var[c] + invstd_params.eps);
}

@compute @workgroup_size(WG)
fn batch_norm_normalize(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = grid_index(gid, groups, WG);
  if (i >= element_params.size) { return; }
  let c = (i / element_params.spatial) % element_params.channels;
  y[i] = (x[i] - mean[c]) * invstd[c] * gamma[c] + beta[c];
}

@compute @workgroup_size(WG)
fn batch_norm_backward_reduce(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = grid_group(wid, groups);
  let p = reduce_params;
  if (c >= p.channels) { return; }
  let count = p.batch * p.spatial;
  let m = mean[c];
  let s = invstd[c];
  var dy_sum = 0.0;
  var dy_xhat_sum = 0.0;
  for (var j = lid; j < count; j += WG) {
    let i = channel_element(c, j, p.channels, p.spatial);
    dy_sum += dy[i];
    dy_xhat_sum += dy[i] * (x[i] - m) * s;
  }
  let total_dy = workgroup_sum(lid, dy_sum);
  let total_dy_xhat = workgroup_sum(lid, dy_xhat_sum);
  if (lid == 0u) {
    dbeta_out[c] = total_dy;
    dgamma_out[c] = total_dy_xhat;
  }
}

@compute @workgroup_size(WG)
fn batch_norm_backward_data(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = grid_index(gid, groups, WG);
  if (i >= element_params.size) { return; }
  let c = (i / element_params.spatial) % element_params.channels;
  let count = f32(element_params.size / element_params.channels);
  let xhat = (x[i] - mean[c]) * invstd[c];
  dx[i] = gamma[c] * invstd[c] * (dy[i] - dbeta[c] / count - xhat * dgamma[c] / count);
}

@compute @workgroup_size(WG)
fn batch_norm_backward_data_eval(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = grid_index(gid, groups, WG);
  if (i >= element_params.size) { return; }
  let c = (i / element_params.spatial) % element_params.channels;
  dx[i] = dy[i] * gamma[c] * invstd[c];
}
