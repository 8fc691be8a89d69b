// apgd.wgsl — the per-image state and the momentum step of APGD (Croce & Hein 2020, L∞).
// Entries, in the order an APGD iteration runs them (after the forward and input gradient
// at the current iterate x_adv):
//   apgd_track     per image: loss f at x_adv; counts f > f_prev (the oscillation test of
//                  the step-size schedule), keeps f_max and marks the image 'improved' when
//                  f > f_max. state[r] = (f_prev, f_max, increases, improved).
//   apgd_keep_max  per element: x_max ← x_adv on improved images (the best point so far).
//   apgd_step      per element: z = P(x_adv + η_r·sign(g)), then
//                  x_new = P(x_adv + a·(z − x_adv) + (1 − a)·(x_adv − x_prev)), x_prev ← x_adv,
//                  x_adv ← x_new; a = budget[1], the momentum (1 on the first step, then 0.75);
//                  P projects onto the ε-ball around x and clips to [0, 1].
//   apgd_restart   per element: x_adv ← x_max on images whose step size was just halved.
// The schedule itself (checkpoints, halving η) runs on the host from a readback of state.
// Bindings per entry are named as below; budget = [ε, a]; eta and restart are per image.
// Dispatch: per-image entries one invocation per image, per-element entries one per value
// (grid_index of lib/grid.wgsl past 65535 workgroups).

struct ElementParams { size: u32, image_size: u32 }
struct ImageParams { images: u32 }

@group(0) @binding(0) var<uniform> params: ElementParams;
@group(0) @binding(1) var<storage, read_write> x_adv: array<f32>;
@group(0) @binding(2) var<storage, read_write> x_prev: array<f32>;
@group(0) @binding(3) var<storage, read> x: array<f32>;
@group(0) @binding(4) var<storage, read> grad: array<f32>;
@group(0) @binding(5) var<storage, read> eta: array<f32>;
@group(0) @binding(6) var<storage, read> budget: array<f32>;
@group(0) @binding(7) var<storage, read_write> x_max: array<f32>;
@group(0) @binding(8) var<storage, read> state_in: array<vec4f>;
@group(0) @binding(9) var<storage, read> restart: array<f32>;

@group(0) @binding(10) var<uniform> image_params: ImageParams;
@group(0) @binding(11) var<storage, read> loss: array<f32>;
@group(0) @binding(12) var<storage, read_write> state: array<vec4f>;

fn project(v: f32, center: f32, epsilon: f32) -> f32 {
  return clamp(clamp(v, center - epsilon, center + epsilon), 0.0, 1.0);
}

@compute @workgroup_size(256)
fn apgd_track(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let r = grid_index(gid, groups, 256u);
  if (r >= image_params.images) { return; }
  let f = loss[r];
  var s = state[r];
  let improved = f > s.y;
  s.z += select(0.0, 1.0, f > s.x);
  s.y = select(s.y, f, improved);
  s.x = f;
  s.w = select(0.0, 1.0, improved);
  state[r] = s;
}

@compute @workgroup_size(256)
fn apgd_keep_max(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = grid_index(gid, groups, 256u);
  if (i >= params.size) { return; }
  if (state_in[i / params.image_size].w != 0.0) { x_max[i] = x_adv[i]; }
}

@compute @workgroup_size(256)
fn apgd_step(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = grid_index(gid, groups, 256u);
  if (i >= params.size) { return; }
  let epsilon = budget[0];
  let center = x[i];
  let current = x_adv[i];
  let g = grad[i];
  let z = project(current + eta[i / params.image_size] * sign(g), center, epsilon);
  let a = budget[1];
  let next = project(current + a * (z - current) + (1.0 - a) * (current - x_prev[i]), center, epsilon);
  x_prev[i] = current;
  x_adv[i] = next;
}

@compute @workgroup_size(256)
fn apgd_restart(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = grid_index(gid, groups, 256u);
  if (i >= params.size) { return; }
  if (restart[i / params.image_size] != 0.0) { x_adv[i] = x_max[i]; }
}
