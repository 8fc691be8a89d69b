import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// Loads shaders/*.wgsl as strings, as esbuild's text loader does for the bundles.
const wgslAsText = {
  name: 'wgsl-as-text',
  load(id: string) {
    if (id.endsWith('.wgsl')) return `export default ${JSON.stringify(readFileSync(id, 'utf8'))};`;
    return null;
  },
};

export default defineConfig({
  plugins: [wgslAsText],
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
