// WGSL files are embedded as strings at build time (esbuild text loader, vitest plugin).
declare module '*.wgsl' {
  const source: string;
  export default source;
}

// wgsl_reflect's "main" is a CommonJS file inside an ES-module package, which Node cannot
// load; kdgpu imports its ES build directly and reuses the package's own types.
declare module 'wgsl_reflect/wgsl_reflect.module.js' {
  export * from 'wgsl_reflect';
}
