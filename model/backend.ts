/**
 * Tensor backend selection. `auto` tries `@tensorflow/tfjs-node` (an optionalDependency that
 * cannot install everywhere), then the wasm backend (SIMD, single-threaded in Node), then cpu.
 * Call `initBackend` once per process or worker thread before any tensor op. tfjs itself is
 * loaded here, lazily, by `initBackend` (dynamic imports), and only the `--grad tfjs` path,
 * `export` and the tests that use tfjs as an oracle call it: the default float64 gradient path
 * never loads it, and importing this module or the learner does not load it. Code that runs
 * tensors (model/tf.ts, model/distributions.ts, learner/loss.ts) gets the module from `tfjs()`.
 *
 * tfjs is `@tensorflow/tfjs-core` with the cpu and wasm backends, not the umbrella package.
 * The gradient-registration trap: tfjs-core's Node bundle registers no gradient functions (the
 * umbrella registers them), and its `dist/register_all_gradients` is extensionless ESM that Node
 * cannot import. `@tensorflow/tfjs-layers`' Node bundle registers every gradient into tfjs-core's
 * global registry when it loads, so `initBackend` imports it (tf.grad then works; tested in
 * test/unit/model/tf.test.ts). The same package builds the export's layers model.
 */
import type * as TF from '@tensorflow/tfjs-core';

let tfModule: typeof TF | null = null;

/** The tfjs module, loaded by `initBackend`. Throws, saying what to do, before that. */
export function tfjs(): typeof TF {
  if (tfModule === null)
    throw new Error('tfjs is not loaded yet: await initBackend() first (the --grad tfjs path and model/tf.ts run tensors)');
  return tfModule;
}

/** tfjs-core, its cpu backend, and tfjs-layers for the gradients (see the module comment). */
async function loadTfjs(): Promise<typeof TF> {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  await import('@tensorflow/tfjs-layers');
  return tf;
}

export const BACKEND_CHOICES = ['auto', 'node', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

let active: string | null = null;

async function tryNode(tf: typeof TF): Promise<boolean> {
  try {
    // The package name is in a variable so that type-checking does not require it installed.
    const name = '@tensorflow/tfjs-node';
    await import(name);
    return await tf.setBackend('tensorflow');
  } catch {
    return false;
  }
}

async function tryWasm(tf: typeof TF): Promise<boolean> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    return await tf.setBackend('wasm');
  } catch {
    return false;
  }
}

/**
 * Select and initialise the backend. Resolves to the tfjs backend name in use ('tensorflow',
 * 'wasm' or 'cpu'). Rejects when an explicitly requested backend cannot load, naming it and
 * what to do instead.
 */
export async function initBackend(choice: BackendChoice = 'auto'): Promise<string> {
  if (active !== null && (choice === 'auto' || backendMatches(choice, active))) return active;
  tfModule ??= await loadTfjs();
  const tf = tfModule;
  let ok: boolean;
  if (choice === 'node') {
    ok = await tryNode(tf);
    if (!ok)
      throw new Error(
        "backend 'node' requested but @tensorflow/tfjs-node did not load (it is optional and cannot install on machines without network access to its binary); use --backend wasm or --backend auto",
      );
  } else if (choice === 'wasm') {
    ok = await tryWasm(tf);
    if (!ok)
      throw new Error(
        "backend 'wasm' requested but @tensorflow/tfjs-backend-wasm did not load; reinstall dependencies (npm ci) or use --backend cpu",
      );
  } else if (choice === 'cpu') {
    ok = await tf.setBackend('cpu');
  } else {
    ok = (await tryNode(tf)) || (await tryWasm(tf)) || (await tf.setBackend('cpu'));
  }
  if (!ok) throw new Error(`could not initialise any tfjs backend for --backend ${choice}`);
  await tf.ready();
  tf.enableProdMode();
  active = tf.getBackend();
  return active;
}

function backendMatches(choice: BackendChoice, name: string): boolean {
  return (choice === 'node' && name === 'tensorflow') || choice === name;
}

/**
 * The tensor backend initialised in this thread, or 'js' when tfjs is not loaded (the float64
 * JavaScript path, `--grad js`, and the actors need none).
 */
export function activeBackend(): string {
  return active ?? 'js';
}
