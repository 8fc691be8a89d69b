// stream_probe.wgsl — the bench's compute-shader bandwidth ceiling (not a library kernel):
// c[i] = a[i] + b[i] over vec4s, one vec4 per invocation, the least work a kernel that reads
// two arrays and writes a third can do (the fused KL reads the two logit arrays and writes
// the gradient). Unlike copyBufferToBuffer, which the driver may run as a memcpy, this goes
// through the shader compiler and the per-invocation dispatch like every kdgpu kernel.
// Bindings: a, b (read), c (write), vec4<f32> arrays of the same length.
// Dispatch: (x, y, 1) workgroups of 256, index = x + y · 65535 · 256 (2-D past 65535).

@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4f>;

@compute @workgroup_size(256)
fn stream_probe(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x + gid.y * 65535u * 256u;
  if (i >= arrayLength(&c)) { return; }
  c[i] = a[i] + b[i];
}
