// adapterLabel: the one-line adapter name that reports and model manifests record.
import { describe, expect, it } from 'vitest';
import { adapterLabel } from '../../src/gpu/context.js';

describe('adapterLabel', () => {
  it('joins the non-empty fields in a fixed order, and says when the adapter told nothing', () => {
    expect(adapterLabel({ vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H200' })).toBe('nvidia / hopper / NVIDIA H200');
    expect(adapterLabel({ vendor: 'mesa', architecture: '', device: 'llvmpipe', description: 'Mesa 25' })).toBe('mesa / llvmpipe / Mesa 25');
    expect(adapterLabel({ vendor: '', architecture: '', device: '', description: '' })).toBe('unknown adapter');
  });
});
