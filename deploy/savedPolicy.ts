/**
 * A saved policy for `eval` and `export`: the newest valid checkpoint of a run directory, or
 * one checkpoint file. A checkpoint is self-describing (its meta holds the resolved config and
 * the model hash), so nothing else of the run is needed.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { CheckpointStore, loadCheckpointFile } from '../learner/checkpoint.js';
import { fromCheckpoint } from '../learner/runState.js';
import { modelSpecFor } from '../envs/registry.js';
import { loadEnvModuleWatched } from './envModule.js';
import { modelHash } from '../model/params.js';
import type { ModelSpec } from '../model/spec.js';
import { UsageError } from './errors.js';
import { DEFAULT_ENV_TIMEOUT_SEC } from '../envs/watchdog.js';

export interface SavedPolicy {
  /** The checkpoint file read. */
  file: string;
  version: number;
  envId: string;
  seed: number;
  spec: ModelSpec;
  /** The float64 master copy. */
  params: Float64Array;
  /** The run's env module (loaded into this thread already), or null. */
  envModule: string | null;
  /** The run's --env-timeout, seconds (absent in its config: the default). */
  envTimeoutSec: number;
}

/**
 * Load the policy of `target` (run directory or checkpoint file); errors name `what` (e.g.
 * 'eval'). The run's env module is imported under a time limit: `envTimeoutSec`, else the run's
 * --env-timeout.
 */
export async function loadSavedPolicy(target: string, what: string, envTimeoutSec?: number): Promise<SavedPolicy> {
  let isDir: boolean;
  try {
    isDir = statSync(target).isDirectory();
  } catch {
    throw new UsageError(`${what}: '${target}' does not exist; give a run directory or a checkpoint file (<run>/checkpoints/ckpt-*.bin)`);
  }
  let file: string;
  let ck;
  try {
    if (isDir) {
      const skipped: string[] = [];
      const store = new CheckpointStore(path.join(target, 'checkpoints'), { onSkip: (f, r) => skipped.push(`${path.basename(f)}: ${r}`) });
      const found = store.loadLatest();
      if (!found)
        throw new UsageError(
          `${what}: ${target} has no valid checkpoint in checkpoints/${skipped.length ? ` (skipped ${skipped.join('; ')})` : ''}; train it first (checkpoints are written every --checkpoint-seconds seconds or --checkpoint-every updates, and at the end)`,
        );
      ({ file, checkpoint: ck } = found);
      // A newer checkpoint refused (corrupt, NaN parameters): say so, and which one is used instead.
      for (const r of skipped) process.stderr.write(`warning: ${what}: skipped ${r}; using ${path.basename(file)}\n`);
    } else {
      file = target;
      ck = loadCheckpointFile(target);
    }
    const { learner, meta } = fromCheckpoint(ck);
    const cfg = meta.config as { env?: unknown; seed?: unknown; hidden?: unknown; envModule?: unknown; envTimeoutSec?: unknown };
    if (typeof cfg.env !== 'string' || !Array.isArray(cfg.hidden)) throw new Error('its config lacks env or hidden');
    const timeoutSec = typeof cfg.envTimeoutSec === 'number' && cfg.envTimeoutSec > 0 ? cfg.envTimeoutSec : DEFAULT_ENV_TIMEOUT_SEC;
    // The run's own environment module (a hang at its import ends the command with a UsageError).
    if (typeof cfg.envModule === 'string') await loadEnvModuleWatched(cfg.envModule, envTimeoutSec ?? timeoutSec);
    // The learner's spec (head and environment spec included), so the hash check compares like with like.
    const spec: ModelSpec = modelSpecFor(cfg.env, cfg.hidden as number[]);
    if (modelHash(spec) !== meta.modelHash) throw new Error(`model hash ${meta.modelHash} does not match its config (${modelHash(spec)})`);
    return {
      file,
      version: meta.version,
      envId: cfg.env,
      seed: typeof cfg.seed === 'number' ? cfg.seed : 1,
      spec,
      params: learner.params,
      envModule: typeof cfg.envModule === 'string' ? cfg.envModule : null,
      envTimeoutSec: timeoutSec,
    };
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${what}: cannot load a policy from '${target}': ${(e as Error).message}`);
  }
}
