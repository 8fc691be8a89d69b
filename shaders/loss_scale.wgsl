// loss_scale.wgsl — dynamic loss scaling for mixed precision (f16 GEMMs, f32 master weights).
//   scale_by_loss_scale: out = x · S                          (the loss, and its gradient rule)
//   check_finite:        found = 1 if any element of x is ±∞ or NaN
//   update_loss_scale:   after a step's updates: if found, S ← S/2 and count a skipped step;
//                        else after growthInterval clean steps in a row, S ← 2S; then
//                        found ← 0 and inverse ← 1/S for the next step.
// The state is lib/loss_scale_state.wgsl's LossScale; check_finite sees `found` as an atomic.
// Non-finite is tested on the bits (exponent all ones): WGSL lets compilers assume floats are
// finite, so isNan-style comparisons may be folded away.
// Bindings: params {size} or {growthInterval}; state (read or read_write); x (read); out (write).
// Dispatch: scale_by_loss_scale and check_finite one invocation per element, 256 per
// workgroup, folded into 2-D (wgslLib.grid); update_loss_scale one invocation.

struct SizeParams { size: u32 }
struct UpdateParams { growthInterval: u32 }

// LossScale with `found` written atomically by many invocations at once.
struct LossScaleFlags {
  scale: f32,
  inverse: f32,
  clean_steps: u32,
  skipped_steps: u32,
  found: atomic<u32>,
}

@group(0) @binding(0) var<uniform> size_params: SizeParams;
@group(0) @binding(0) var<uniform> update_params: UpdateParams;
@group(0) @binding(1) var<storage, read> state: LossScale;
@group(0) @binding(1) var<storage, read_write> flags: LossScaleFlags;
@group(0) @binding(1) var<storage, read_write> state_rw: LossScale;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> x_bits: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn scale_by_loss_scale(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = grid_index(gid, groups, 256u);
  if (i >= size_params.size) { return; }
  out[i] = x[i] * state.scale;
}

@compute @workgroup_size(256)
fn check_finite(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = grid_index(gid, groups, 256u);
  if (i >= size_params.size) { return; }
  if ((x_bits[i] & 0x7f800000u) == 0x7f800000u) { atomicStore(&flags.found, 1u); }
}

@compute @workgroup_size(1)
fn update_loss_scale() {
  var s = state_rw;
  if (s.found != 0u) {
    s.scale = s.scale * 0.5;
    s.skipped_steps += 1u;
    s.clean_steps = 0u;
  } else {
    s.clean_steps += 1u;
    if (s.clean_steps >= update_params.growthInterval) {
      s.scale = s.scale * 2.0;
      s.clean_steps = 0u;
    }
  }
  s.found = 0u;
  s.inverse = 1.0 / s.scale;
  state_rw = s;
}
