import { ensureWritableDirectory } from '../io/directories.js';
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
      await ensureWritableDirectory(directory, 'checkpoint folder');
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
      // The counters are checked before any weight is written, so a damaged checkpoint
      // leaves the model as it was.
      const counters = parseCounters(text, path);
      loadParametersInto(tensors, bytes, { source: path });
      return counters;
    },
  };
}

/** The run's counters from a checkpoint's metadata, checked field by field. */
function parseCounters(text: string, path: string): Omit<TrainingState, 'tensors'> {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text) as Record<string, unknown>;
  } catch (cause) {
    throw new Error(`${path}: the checkpoint's '${METADATA_KEY}' metadata is not valid JSON (${(cause as Error).message}); the file is damaged`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${path}: the checkpoint's '${METADATA_KEY}' metadata is not an object`);
  for (const key of ['epoch', 'optimizerStep', 'dropoutSeed', 'dropoutStep', 'bestEpoch'] as const) {
    const v = value[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new Error(`${path}: the checkpoint's '${key}' is ${JSON.stringify(v)}, not a non-negative integer; the file is damaged`);
  }
  if (!Array.isArray(value.history)) throw new Error(`${path}: the checkpoint has no training history; the file is damaged`);
  const state = value.objectiveState;
  if (state !== undefined && (typeof state !== 'object' || state === null || Object.values(state).some((v) => typeof v !== 'number'))) {
    throw new Error(`${path}: the checkpoint's objectiveState is not a map of numbers; the file is damaged`);
  }
  return value as unknown as Omit<TrainingState, 'tensors'>;
}
