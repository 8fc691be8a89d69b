// Node-only modules, imported dynamically under variable names so bundlers leave them out
// and browser builds never load them.

export async function nodeFs(): Promise<typeof import('node:fs/promises')> {
  const name = 'node:fs/promises';
  return import(/* @vite-ignore */ name);
}

export async function nodePath(): Promise<typeof import('node:path')> {
  const name = 'node:path';
  return import(/* @vite-ignore */ name);
}

export async function nodeUrl(): Promise<typeof import('node:url')> {
  const name = 'node:url';
  return import(/* @vite-ignore */ name);
}
