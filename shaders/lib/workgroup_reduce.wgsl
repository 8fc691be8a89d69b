// lib/workgroup_reduce.wgsl — tree reductions (sum or max) over the invocations of a workgroup,
// or over an aligned segment of them, in a workgroup scratch array of WG values.
// Needs from the including shader: `WG`, the workgroup size of the entries that call these
// (a const or an override u32, a power of two ≤ 256), and `alias ReduceValue = f32;` (or
// vec4f: four reductions at once). Every invocation of the workgroup must reach each call
// (uniform control flow: the barriers are the workgroup's); every one gets the result.
// segment_reduce and workgroup_sum add in a balanced tree (stride lanes/2, lanes/4, ..., 1),
// log2(lanes) roundings deep.

var<workgroup> reduce_scratch: array<ReduceValue, WG>;

// Sum (or max when take_max) of `value` over the `lanes` invocations segment .. segment +
// lanes − 1, `lane` being this one's place among them; lanes is a power of two.
fn segment_reduce(segment: u32, lane: u32, lanes: u32, value: ReduceValue, take_max: bool) -> ReduceValue {
  reduce_scratch[segment + lane] = value;
  workgroupBarrier();
  for (var stride = lanes / 2u; stride > 0u; stride >>= 1u) {
    if (lane < stride) {
      let mine = reduce_scratch[segment + lane];
      let other = reduce_scratch[segment + lane + stride];
      reduce_scratch[segment + lane] = select(mine + other, max(mine, other), take_max);
    }
    workgroupBarrier();
  }
  let result = reduce_scratch[segment];
  workgroupBarrier(); // every invocation has read the result before the scratch is reused
  return result;
}

// The same for few lanes (≤ 32), with one barrier instead of log2(lanes): every lane reads
// the segment's values itself. A sum adds them in groups of 8 in order, then the group
// totals in order: ≤ 8 + lanes / 8 additions deep.
fn segment_reduce_flat(segment: u32, lane: u32, lanes: u32, value: ReduceValue, take_max: bool) -> ReduceValue {
  reduce_scratch[segment + lane] = value;
  workgroupBarrier();
  var total = reduce_scratch[segment];
  if (take_max) {
    for (var i = 1u; i < lanes; i++) { total = max(total, reduce_scratch[segment + i]); }
  } else {
    total = ReduceValue();
    var part = ReduceValue();
    for (var i = 0u; i < lanes; i++) {
      part += reduce_scratch[segment + i];
      if ((i & 7u) == 7u) { total += part; part = ReduceValue(); }
    }
    total += part;
  }
  workgroupBarrier(); // every invocation has read the values before the scratch is reused
  return total;
}

fn workgroup_sum(lid: u32, value: ReduceValue) -> ReduceValue {
  return segment_reduce(0u, lid, WG, value, false);
}

fn workgroup_max(lid: u32, value: ReduceValue) -> ReduceValue {
  return segment_reduce(0u, lid, WG, value, true);
}
