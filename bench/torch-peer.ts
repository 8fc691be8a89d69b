// The PyTorch (CPU, 2 threads) contender: a Python worker (bench/torch_peer.py) per runner,
// told over stdin how many iterations to run and answering when they are done, so compare()
// interleaves it with kdgpu and TF.js like any other runner.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { Runner } from './measure.js';

// Paths from the repository root (the bench and the tests run there): the bench is bundled
// into node_modules/.cache, so this file's own location does not lead back to bench/.
const WORKER = join(process.cwd(), 'bench', 'torch_peer.py');
/** Where bench/setup-torch.sh makes its venv (ignored by git). */
const DEFAULT_PYTHON = join(process.cwd(), '.venv-torch', 'bin', 'python');

/** What the worker builds: the workload's name and its sizes. */
export type TorchSpec =
  | { workload: 'train_step' | 'kd_step' | 'inference'; batch: number }
  | { workload: 'gemm'; m: number; k: number; n: number }
  | { workload: 'kl'; rows: number; classes: number };

/**
 * The Python that runs the peer: $KDGPU_TORCH_PYTHON, else the venv of bench/setup-torch.sh.
 * Throws (and the bench records the message as peer_torch's error) when neither exists.
 */
export function torchPython(): string {
  const python = process.env.KDGPU_TORCH_PYTHON ?? DEFAULT_PYTHON;
  if (!existsSync(python)) {
    throw new Error(`PyTorch peer skipped: no Python at ${python}; run bench/setup-torch.sh or set KDGPU_TORCH_PYTHON to a python with torch`);
  }
  return python;
}

/**
 * Starts a worker that builds `spec` (setup, not timed) and returns its runner; the worker
 * exits when the runner is disposed. Rejects with the worker's stderr if it fails to start.
 * @example const runner = await torchRunner({ workload: 'gemm', m: 1024, k: 1024, n: 1024 });
 */
export async function torchRunner(spec: TorchSpec): Promise<Runner> {
  const child = spawn(torchPython(), [WORKER], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const lines = createInterface({ input: child.stdout });
  const reply = nextReply(child, lines, () => stderr);
  child.stdin.write(`${JSON.stringify(spec)}\n`);
  try {
    await reply();
  } catch (cause) {
    child.kill();
    throw cause;
  }
  return {
    async run(n) {
      child.stdin.write(`${JSON.stringify({ run: n })}\n`);
      await reply();
    },
    dispose() {
      lines.close();
      child.stdin.end();
      child.kill();
    },
  };
}

/** Resolves with the worker's next output line, or rejects with its last stderr line if it exits first. */
function nextReply(child: ChildProcessWithoutNullStreams, lines: Interface, stderr: () => string): () => Promise<string> {
  const iterator = lines[Symbol.asyncIterator]();
  const exited = new Promise<never>((_, reject) => {
    child.on('error', (cause) => reject(new Error(`PyTorch peer could not start: ${cause.message}`)));
    child.on('exit', (code) => {
      const last = stderr().trim().split('\n').pop() ?? '';
      reject(new Error(`PyTorch peer exited (code ${code}): ${last || 'no message'}`));
    });
  });
  exited.catch(() => undefined);
  return async () => {
    const next = await Promise.race([iterator.next(), exited]);
    if (next.done) return exited;
    return next.value;
  };
}
