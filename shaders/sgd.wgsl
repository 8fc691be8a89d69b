// sgd.wgsl — fused SGD with momentum (PyTorch's convention), in place.
//   g' = g + weightDecay·p;  velocity ← momentum·velocity + g';  p ← p − lr·velocity
// (momentum 0 gives plain SGD.)
// sgd_momentum_update_scaled (mixed precision): g = grad · (1/S) from the loss scale's state
// (lib/loss_scale_state.wgsl, appended), and no update at all when the state flags an overflow.
// Bindings: params {size, momentum, weightDecay}; step {step, learningRate} written by the
// optimizer before each run; param, velocity (read_write); grad (read); loss_scale (read;
// the scaled entry only).
// Dispatch: one invocation per element, 256 per workgroup (x + y · 256 · nx).

struct Params { size: u32, momentum: f32, weightDecay: f32 }
struct Step { step: u32, learningRate: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<uniform> step: Step;
@group(0) @binding(2) var<storage, read_write> param: array<f32>;
@group(0) @binding(3) var<storage, read> grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> velocity: array<f32>;
@group(0) @binding(5) var<storage, read> loss_scale: LossScale;

@compute @workgroup_size(256)
fn sgd_momentum_update(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i >= params.size) { return; }
  update(i, grad[i]);
}

@compute @workgroup_size(256)
fn sgd_momentum_update_scaled(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i >= params.size || loss_scale.found != 0u) { return; }
  update(i, grad[i] * loss_scale.inverse);
}

fn update(i: u32, raw: f32) {
  let p = param[i];
  let g = raw + params.weightDecay * p;
  let vel = params.momentum * velocity[i] + g;
  velocity[i] = vel;
  param[i] = p - step.learningRate * vel;
}
