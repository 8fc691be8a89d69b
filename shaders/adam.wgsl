// adam.wgsl — fused Adam / AdamW update of one parameter tensor, in place.
//   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
//   p ← p − lr · ( m̂ / (√v̂ + ε) + weightDecay·p ),  m̂ = m/(1−β1^t), v̂ = v/(1−β2^t)
// (weightDecay is decoupled, as in AdamW; 0 gives plain Adam.)
// Bindings: params {size, beta1, beta2, epsilon, weightDecay}; step {step t ≥ 1,
// learningRate} written by the optimizer before each run; param, m, v (read_write);
// grad (read).
// Dispatch: one invocation per element, 256 per workgroup (x + y · 256 · nx).

struct Params { size: u32, beta1: f32, beta2: f32, epsilon: f32, weightDecay: f32 }
struct Step { step: u32, learningRate: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<uniform> step: Step;
@group(0) @binding(2) var<storage, read_write> param: array<f32>;
@group(0) @binding(3) var<storage, read> grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> m: array<f32>;
@group(0) @binding(5) var<storage, read_write> v: array<f32>;

@compute @workgroup_size(256)
fn adam_update(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i >= params.size) { return; }
  let g = grad[i];
  let t = f32(step.step);
  let m1 = params.beta1 * m[i] + (1.0 - params.beta1) * g;
  let v1 = params.beta2 * v[i] + (1.0 - params.beta2) * g * g;
  m[i] = m1;
  v[i] = v1;
  let m_hat = m1 / (1.0 - pow(params.beta1, t));
  let v_hat = v1 / (1.0 - pow(params.beta2, t));
  let p = param[i];
  param[i] = p - step.learningRate * (m_hat / (sqrt(v_hat) + params.epsilon) + params.weightDecay * p);
}
