// conv2d_backward_bias.wgsl — gradient of conv2d with respect to its bias:
//   db[o] = Σ_{n, oy, ox} dy[n, o, oy, ox]
// dy is NCHW [batch, channels, pixels = outHeight·outWidth], f32.
// Bindings: params {batch, channels, pixels}; dy (read); db [channels] (write).
// Dispatch: one workgroup of 256 per channel (workgroups (channels, 1), folded into 2D past
// 65535: channel = x + y · nx). Each invocation sums a strided slice of the channel's
// batch·pixels values, then a tree reduction in workgroup memory.
// Shared parts (shaders/lib/): workgroup_reduce (the tree), grid.

struct BiasParams { batch: u32, channels: u32, pixels: u32 }

@group(0) @binding(0) var<uniform> params: BiasParams;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> db: array<f32>;

const WG = 256u;
alias ReduceValue = f32;

@compute @workgroup_size(WG)
fn conv2d_backward_bias(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let channel = grid_group(wid, groups);
  if (channel >= params.channels) { return; }
  var acc = 0.0;
  // Flat over (image, pixel) so small feature maps still keep all 256 invocations busy.
  for (var i = lid; i < params.batch * params.pixels; i += WG) {
    let image = i / params.pixels;
    acc += dy[(image * params.channels + channel) * params.pixels + i % params.pixels];
  }
  let total = workgroup_sum(lid, acc);
  if (lid == 0u) { db[channel] = total; }
}
