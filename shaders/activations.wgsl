// activations.wgsl — pointwise activations for imported models, selected by `kind`:
//   0 sigmoid 1/(1+e^−x)        1 tanh                      2 leaky_relu (x ≥ 0 ? x : α·x)
//   3 elu (x > 0 ? x : α·(eˣ−1)) 4 selu (γ·elu with ONNX's α, γ) 5 softplus log(1+eˣ)
//   6 softsign x/(1+|x|)        7 hard_sigmoid clamp(α·x+β, 0, 1)
//   8 hard_swish x·clamp(x/6+½, 0, 1)                      9 clip clamp(x, α, β)
//   10 neg −x   11 exp eˣ   12 log ln x   13 sqrt √x   14 abs |x|   15 reciprocal 1/x
//   16 sign     17 floor    (16, 17: derivative 0; abs′(0) = 0, as PyTorch)
//   activation_forward:  out[i] = f(x[i])
//   activation_backward: out[i] = dy[i]·f′(x[i])  (x is the forward input; at kinks the
//                        derivative of the branch taken for that x, as PyTorch does)
// Bindings: uniform params, x, dy (backward), out. Layout: flat f32 arrays.
// Dispatch: 256 invocations per workgroup, one element each; grid folded into 2-D past
// 65535 workgroups (index = x + y · 256 · nx).

struct ActivationParams { size: u32, kind: u32, alpha: f32, beta: f32 }

@group(0) @binding(0) var<uniform> params: ActivationParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const SELU_ALPHA: f32 = 1.6732632423543772;
const SELU_GAMMA: f32 = 1.0507009873554805;

fn flat_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

fn sigmoid(v: f32) -> f32 {
  // e^−|v| never overflows; the two branches are the same function.
  let e = exp(-abs(v));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), v >= 0.0);
}

fn forward(v: f32) -> f32 {
  let a = params.alpha;
  let b = params.beta;
  switch params.kind {
    case 0u: { return sigmoid(v); }
    case 1u: { return tanh(v); }
    case 2u: { return select(a * v, v, v >= 0.0); }
    case 3u: { return select(a * (exp(v) - 1.0), v, v > 0.0); }
    case 4u: { return SELU_GAMMA * select(SELU_ALPHA * (exp(v) - 1.0), v, v > 0.0); }
    case 5u: { return max(v, 0.0) + log(1.0 + exp(-abs(v))); }
    case 6u: { return v / (1.0 + abs(v)); }
    case 7u: { return clamp(a * v + b, 0.0, 1.0); }
    case 8u: { return v * clamp(v / 6.0 + 0.5, 0.0, 1.0); }
    case 10u: { return -v; }
    case 11u: { return exp(v); }
    case 12u: { return log(v); }
    case 13u: { return sqrt(v); }
    case 14u: { return abs(v); }
    case 15u: { return 1.0 / v; }
    case 16u: { return sign(v); }
    case 17u: { return floor(v); }
    default: { return clamp(v, a, b); }
  }
}

fn derivative(v: f32) -> f32 {
  let a = params.alpha;
  let b = params.beta;
  switch params.kind {
    case 0u: { let s = sigmoid(v); return s * (1.0 - s); }
    case 1u: { let t = tanh(v); return 1.0 - t * t; }
    case 2u: { return select(a, 1.0, v >= 0.0); }
    case 3u: { return select(a * exp(v), 1.0, v > 0.0); }
    case 4u: { return SELU_GAMMA * select(SELU_ALPHA * exp(v), 1.0, v > 0.0); }
    case 5u: { return sigmoid(v); }
    case 6u: { let d = 1.0 + abs(v); return 1.0 / (d * d); }
    case 7u: { let z = a * v + b; return select(0.0, a, z > 0.0 && z < 1.0); }
    case 8u: { return select(select(0.0, 1.0, v >= 3.0), v / 3.0 + 0.5, v > -3.0 && v < 3.0); }
    case 10u: { return -1.0; }
    case 11u: { return exp(v); }
    case 12u: { return 1.0 / v; }
    case 13u: { return 0.5 / sqrt(v); }
    case 14u: { return sign(v); }
    case 15u: { return -1.0 / (v * v); }
    case 16u, 17u: { return 0.0; }
    default: { return select(0.0, 1.0, v >= a && v <= b); }
  }
}

@compute @workgroup_size(256)
fn activation_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  if (i >= params.size) { return; }
  out[i] = forward(x[i]);
}

@compute @workgroup_size(256)
fn activation_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  if (i >= params.size) { return; }
  out[i] = dy[i] * derivative(x[i]);
}
