import { WgslReflect } from 'wgsl_reflect/wgsl_reflect.module.js';

/** A WGSL module embedded at build time, named after its file in shaders/. */
export interface Shader {
  readonly name: string;
  readonly code: string;
}

/**
 * One WGSL module from its entry file's code and the shared parts it uses (shaders/lib/,
 * `wgslLib` in src/gpu/shader-lib.ts), joined in that order: the entry file comes first so
 * that compiler line numbers match its file. WGSL lets a declaration come after its use, so
 * a part may call what the entry file defines (its header says what it needs), and names
 * must be unique across the parts.
 * @example const softmaxShader = shader('softmax', softmaxCode, wgslLib.grid, wgslLib.numbers, wgslLib.logSumExp);
 */
export function shader(name: string, ...parts: string[]): Shader {
  return { name, code: parts.join('\n') };
}

export type UniformFieldType = 'u32' | 'i32' | 'f32';

export interface UniformLayout {
  readonly size: number;
  readonly fields: ReadonlyMap<string, { offset: number; type: UniformFieldType }>;
}

export interface BindingInfo {
  readonly name: string;
  readonly binding: number;
  readonly kind: 'uniform' | 'storage';
  readonly access: 'read' | 'read_write';
  /** For uniform bindings: the struct layout, so values can be written by field name. */
  readonly layout?: UniformLayout;
}

export interface EntryReflection {
  readonly entry: string;
  readonly bindings: ReadonlyMap<string, BindingInfo>;
}

const reflections = new WeakMap<Shader, Map<string, EntryReflection>>();

/**
 * Reads the bindings one compute entry point uses from its WGSL (group 0 only), so that
 * TypeScript binds buffers by the names the shader declares.
 */
export function reflectEntry(s: Shader, entry: string): EntryReflection {
  let byEntry = reflections.get(s);
  if (!byEntry) {
    byEntry = new Map();
    const reflect = new WgslReflect(s.code);
    for (const fn of reflect.entry.compute) byEntry.set(fn.name, reflectFunction(s, fn));
    reflections.set(s, byEntry);
  }
  const found = byEntry.get(entry);
  if (!found) {
    throw new Error(
      `shader '${s.name}' has no compute entry point '${entry}' (it has: ${[...byEntry.keys()].join(', ') || 'none'})`,
    );
  }
  return found;
}

// wgsl_reflect's types are loose; only the fields read here are declared.
interface ReflectedResource {
  name: string;
  group: number;
  binding: number;
  resourceType: number;
  access: string;
  type: { name: string; size: number; members?: { name: string; offset: number; type: { name: string } }[] | null };
}

function reflectFunction(s: Shader, fn: { name: string; resources: ReflectedResource[] }): EntryReflection {
  const bindings = new Map<string, BindingInfo>();
  for (const r of fn.resources) {
    if (r.group !== 0) throw new Error(`shader '${s.name}': binding '${r.name}' uses group ${r.group}; kdgpu kernels use group 0 only`);
    if (r.resourceType === 0) {
      bindings.set(r.name, { name: r.name, binding: r.binding, kind: 'uniform', access: 'read', layout: uniformLayout(s, r) });
    } else if (r.resourceType === 1) {
      const access = r.access === 'read_write' ? 'read_write' : 'read';
      bindings.set(r.name, { name: r.name, binding: r.binding, kind: 'storage', access });
    } else {
      throw new Error(`shader '${s.name}': binding '${r.name}' is not a buffer; kdgpu kernels bind buffers only`);
    }
  }
  return { entry: fn.name, bindings };
}

function uniformLayout(s: Shader, r: ReflectedResource): UniformLayout {
  const members = r.type.members;
  if (!members) throw new Error(`shader '${s.name}': uniform '${r.name}' must be a struct of u32/i32/f32 fields`);
  const fields = new Map<string, { offset: number; type: UniformFieldType }>();
  for (const m of members) {
    const type = m.type.name;
    if (type !== 'u32' && type !== 'i32' && type !== 'f32') {
      throw new Error(`shader '${s.name}': uniform field '${r.name}.${m.name}' has type ${type}; only u32, i32 and f32 are supported`);
    }
    fields.set(m.name, { offset: m.offset, type });
  }
  return { size: Math.max(16, Math.ceil(r.type.size / 16) * 16), fields };
}

/**
 * Packs named values into a uniform struct. Every field must be given, and no other name:
 * a mismatch between TypeScript and WGSL fails here, naming the shader and the field.
 */
export function packUniforms(s: Shader, binding: BindingInfo, values: Record<string, number>): ArrayBuffer {
  const layout = binding.layout!;
  const data = new ArrayBuffer(layout.size);
  const view = new DataView(data);
  for (const name of Object.keys(values)) {
    if (!layout.fields.has(name)) {
      throw new Error(
        `shader '${s.name}': uniform '${binding.name}' has no field '${name}' (fields: ${[...layout.fields.keys()].join(', ')})`,
      );
    }
  }
  for (const [name, { offset, type }] of layout.fields) {
    const value = values[name];
    if (value === undefined || !Number.isFinite(value)) {
      throw new Error(`shader '${s.name}': uniform field '${binding.name}.${name}' needs a finite number, got ${value}`);
    }
    if (type === 'f32') view.setFloat32(offset, value, true);
    else if (type === 'u32') view.setUint32(offset, value, true);
    else view.setInt32(offset, value, true);
  }
  return data;
}
