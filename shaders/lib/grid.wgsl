// lib/grid.wgsl — indices in dispatch grids folded into 2-D. A grid of more than 65535
// workgroups (the per-dimension limit) is dispatched as nx × ny, numbered row by row.
// Needs nothing from the including shader.

// The flat index of an invocation in a folded grid of `width`-invocation workgroups:
// x + y · nx · width.
fn grid_index(gid: vec3u, groups: vec3u, width: u32) -> u32 {
  return gid.x + gid.y * groups.x * width;
}

// The flat index of a workgroup in a folded grid: x + y · nx (one workgroup per row, image ...).
fn grid_group(wid: vec3u, groups: vec3u) -> u32 {
  return wid.x + wid.y * groups.x;
}
