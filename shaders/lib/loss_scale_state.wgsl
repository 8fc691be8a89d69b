// lib/loss_scale_state.wgsl — the dynamic loss scale's state, one 32-byte storage buffer that
// loss_scale.wgsl maintains and the optimizers' *_scaled entries read (src/optim/loss-scale.ts
// lays it out the same way). Needs nothing from the including shader.
//   scale:         S, the factor the loss is multiplied by before differentiation
//   inverse:       1 / S (exact: S is a power of two), applied to the gradients in the update
//   clean_steps:   steps since the last overflow or growth
//   skipped_steps: steps skipped because a gradient was not finite, since the start
//   found:         1 when a gradient of the current step is not finite (the update is skipped)
struct LossScale {
  scale: f32,
  inverse: f32,
  clean_steps: u32,
  skipped_steps: u32,
  found: u32,
}
