// The bench's PyTorch peer driver (bench/torch-peer.ts) when it cannot run: a missing
// interpreter and a worker that dies at start both reject with a message that says why
// (the bench records it as peer_torch's error). The working path needs torch and is
// exercised by the bench itself (bench.test.ts accepts either outcome and checks the ratio).
import { afterEach, describe, expect, it } from 'vitest';
import { torchRunner } from '../../bench/torch-peer.js';

const saved = process.env.KDGPU_TORCH_PYTHON;
afterEach(() => {
  if (saved === undefined) delete process.env.KDGPU_TORCH_PYTHON;
  else process.env.KDGPU_TORCH_PYTHON = saved;
});

describe('PyTorch peer driver', () => {
  it('is skipped with a note naming the missing interpreter', async () => {
    process.env.KDGPU_TORCH_PYTHON = '/nonexistent/python';
    await expect(torchRunner({ workload: 'gemm', m: 2, k: 2, n: 2 })).rejects.toThrow(/PyTorch peer skipped: no Python at \/nonexistent\/python/);
  });

  it('reports a worker that exits before it is ready, with its exit code', async () => {
    // Node is no Python: it fails on the .py file's syntax and exits 1, as a broken venv would.
    process.env.KDGPU_TORCH_PYTHON = process.execPath;
    await expect(torchRunner({ workload: 'gemm', m: 2, k: 2, n: 2 })).rejects.toThrow(/PyTorch peer exited \(code 1\)/);
  });
});
