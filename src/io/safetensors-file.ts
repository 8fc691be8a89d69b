// Node-only: model parameters to and from .safetensors files, written atomically.
import { readFileBytes, writeFileAtomic } from './atomic-write.js';
import { type LoadParametersOptions, type NamedTensors, loadParametersInto, saveParameters } from './parameters.js';

/**
 * Saves GPU tensors by name to a safetensors file, atomically (see writeFileAtomic).
 * @example await saveSafetensorsFile('student.safetensors', { 'dense1.weight': w }, { epoch: '3' });
 */
export async function saveSafetensorsFile(path: string, named: NamedTensors, metadata?: Readonly<Record<string, string>>): Promise<void> {
  await writeFileAtomic(path, await saveParameters(named, metadata));
}

/**
 * Loads a safetensors file into existing GPU tensors of the same names (see
 * loadParametersInto); errors name the file unless `options.source` says otherwise.
 * @example await loadSafetensorsFile('student.safetensors', { 'dense1.weight': w });
 */
export async function loadSafetensorsFile(path: string, named: NamedTensors, options: LoadParametersOptions = {}): Promise<void> {
  loadParametersInto(named, await readFileBytes(path), { ...options, source: options.source ?? path });
}
