import { readFileBytes, writeFileAtomic } from '../io/atomic-write.js';
import { loadParametersInto, saveParameters } from '../io/parameters.js';
import { decodeSafetensors } from '../io/safetensors.js';
import type { Tensor } from '../graph/tensor.js';
import type { CheckpointStore, TrainingState } from './fit.js';

const METADATA_KEY = 'kdgpu.training';

/**
 * Node: keeps a run's checkpoint in `directory/name.safetensors` (model, optimizer state,
 * and the counters of the run in the file's metadata), replaced atomically every epoch and,
 * with `checkpointEvery`, every that many steps.
 * A run given the same store continues from it with the same result as an uninterrupted run.
 *
 * @example await train(model, data, { ...options, checkpoint: fileCheckpoint('runs/teacher') });
 */
export function fileCheckpoint(directory: string, name = 'checkpoint'): CheckpointStore & { readonly path: string } {
  const path = `${directory.replace(/\/+$/, '')}/${name}.safetensors`;
  return {
    path,
    async save(state: TrainingState) {
      const fsName = 'node:fs/promises';
      const fs: typeof import('node:fs/promises') = await import(/* @vite-ignore */ fsName);
      await fs.mkdir(directory, { recursive: true });
      const { tensors, ...counters } = state;
      await writeFileAtomic(path, await saveParameters(tensors, { [METADATA_KEY]: JSON.stringify(counters) }));
    },
    async load(tensors: Map<string, Tensor>) {
      const fsName = 'node:fs/promises';
      const fs: typeof import('node:fs/promises') = await import(/* @vite-ignore */ fsName);
      try {
        await fs.access(path);
      } catch {
        return undefined;
      }
      const bytes = await readFileBytes(path);
      const { metadata } = decodeSafetensors(bytes, path);
      const text = metadata[METADATA_KEY];
      if (!text) throw new Error(`${path} is not a kdgpu training checkpoint (no '${METADATA_KEY}' metadata)`);
      loadParametersInto(tensors, bytes, { source: path });
      return JSON.parse(text) as Omit<TrainingState, 'tensors'>;
    },
  };
}
