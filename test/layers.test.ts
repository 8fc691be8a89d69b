// The layering rule (gpu/ < graph/ < ops/ < ...): src/gpu may import only itself, src/graph
// only itself and src/gpu, so device choices and the graph core never depend on the ops built
// on them. Reads the import and re-export specifiers of every file under those folders.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(__dirname, '../src');
const ALLOWED: Record<string, readonly string[]> = { gpu: ['gpu'], graph: ['gpu', 'graph'] };
// Static imports, re-exports and dynamic import() with a relative specifier.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s*)['"](\.[^'"]+)['"]/gm;

/** The src/ folders that `file` imports from (shader sources outside src/ are assets, not layers). */
function importedLayers(file: string, text = readFileSync(file, 'utf8')): { specifier: string; layer: string }[] {
  return [...text.matchAll(SPECIFIER)].flatMap(([, specifier]) => {
    const target = relative(SRC, resolve(dirname(file), specifier!));
    if (target.startsWith('..')) return [];
    return [{ specifier: specifier!, layer: target.includes('/') ? target.split('/')[0]! : target }];
  });
}

describe('layering', () => {
  for (const [layer, allowed] of Object.entries(ALLOWED)) {
    it(`src/${layer} imports nothing above it`, () => {
      const files = readdirSync(join(SRC, layer)).filter((f) => f.endsWith('.ts'));
      expect(files.length).toBeGreaterThan(0);
      const offending = files.flatMap((f) =>
        importedLayers(join(SRC, layer, f))
          .filter(({ layer: to }) => !allowed.includes(to))
          .map(({ specifier }) => `src/${layer}/${f} imports ${specifier}`),
      );
      expect(offending).toEqual([]);
    });
  }

  it('finds static, re-exported and dynamic imports', () => {
    const text = "import { add } from '../ops/elementwise.js';\nexport { x } from './op.js';\nconst m = await import('../tune/gemm-autotune.js');\nimport code from '../../shaders/a.wgsl';";
    expect(importedLayers(join(SRC, 'graph', 'probe.ts'), text).map((i) => i.layer)).toEqual(['ops', 'graph', 'tune']);
  });
});
