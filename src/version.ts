/** The library's version (package.json's; test/tune/gemm-autotune.test.ts keeps them equal): part of cache keys. */
export const KDGPU_VERSION = '0.1.0';
