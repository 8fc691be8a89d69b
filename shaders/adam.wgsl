// adam.wgsl — fused Adam / AdamW update of one parameter tensor, in place.
//   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
//   p ← p − lr · ( m̂ / (√v̂ + ε) + weightDecay·p ),  m̂ = m/(1−β1^t), v̂ = v/(1−β2^t)
// (weightDecay is decoupled, as in AdamW; 0 gives plain Adam.)
// adam_update_scaled, adam_update4_scaled (mixed precision): g = grad · (1/S) from the loss
// scale's state (lib/loss_scale_state.wgsl, appended), and no update at all when the state
// flags an overflow.
// Bindings: params {size, beta1, beta2, epsilon, weightDecay}; step {step t ≥ 1,
// learningRate} written by the optimizer before each run; param, m, v (read_write);
// grad (read); loss_scale (read; the *_scaled entries only). adam_update4 binds the same
// buffers as vec4 arrays.
// Dispatch: adam_update4[_scaled] (size % 4 = 0): one invocation per four elements, 64 per
// workgroup; adam_update[_scaled]: one per element, 256 per workgroup (x + y · size · nx).
// Both run the same vec4 arithmetic, so a parameter's update does not depend on which entry
// ran it. On lavapipe the vec4 entry is ~2× faster (bench/NOTES.md, "Adam, four elements per
// invocation").

struct Params { size: u32, beta1: f32, beta2: f32, epsilon: f32, weightDecay: f32 }
struct Step { step: u32, learningRate: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<uniform> step: Step;
@group(0) @binding(2) var<storage, read_write> param: array<f32>;
@group(0) @binding(3) var<storage, read> grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> m: array<f32>;
@group(0) @binding(5) var<storage, read_write> v: array<f32>;
@group(0) @binding(2) var<storage, read_write> param4: array<vec4f>;
@group(0) @binding(3) var<storage, read> grad4: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> m4: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> v4: array<vec4f>;
@group(0) @binding(6) var<storage, read> loss_scale: LossScale;

struct Moments { m: vec4f, v: vec4f, p: vec4f }

fn adam(g: vec4f, m0: vec4f, v0: vec4f, p0: vec4f) -> Moments {
  let t = f32(step.step);
  let m_scale = 1.0 / (1.0 - pow(params.beta1, t));
  let v_scale = 1.0 / (1.0 - pow(params.beta2, t));
  let m1 = params.beta1 * m0 + (1.0 - params.beta1) * g;
  let v1 = params.beta2 * v0 + (1.0 - params.beta2) * g * g;
  let p1 = p0 - step.learningRate * (m1 * m_scale / (sqrt(v1 * v_scale) + params.epsilon) + params.weightDecay * p0);
  return Moments(m1, v1, p1);
}

@compute @workgroup_size(64)
fn adam_update4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * 64u;
  if (i >= params.size / 4u) { return; }
  update4(i, grad4[i]);
}

@compute @workgroup_size(64)
fn adam_update4_scaled(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * 64u;
  if (i >= params.size / 4u || loss_scale.found != 0u) { return; }
  update4(i, grad4[i] * loss_scale.inverse);
}

fn update4(i: u32, g: vec4f) {
  let r = adam(g, m4[i], v4[i], param4[i]);
  m4[i] = r.m;
  v4[i] = r.v;
  param4[i] = r.p;
}

@compute @workgroup_size(256)
fn adam_update(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i >= params.size) { return; }
  update(i, grad[i]);
}

@compute @workgroup_size(256)
fn adam_update_scaled(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i >= params.size || loss_scale.found != 0u) { return; }
  update(i, grad[i] * loss_scale.inverse);
}

fn update(i: u32, g: f32) {
  let r = adam(vec4f(g), vec4f(m[i]), vec4f(v[i]), vec4f(param[i]));
  m[i] = r.m.x;
  v[i] = r.v.x;
  param[i] = r.p.x;
}
