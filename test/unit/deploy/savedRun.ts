/** A run directory holding real learner checkpoints (CheckpointStore, as a run writes them), for eval, export and loadPolicy. */
import { join } from 'node:path';
import { CheckpointStore } from '../../../learner/checkpoint.js';
import { toCheckpoint } from '../../../learner/runState.js';
import { modelSpecFor } from '../../../envs/registry.js';
import { initParams, modelHash } from '../../../model/params.js';
import { tmp } from './helpers.js';

/** A run directory holding real checkpoints of an `env` policy at `versions`, the last one's params distinct. */
export function savedRun(env: string, versions: number[], o: { hash?: number; seed?: number } = {}): { dir: string; params: Float64Array } {
  const dir = join(tmp('isr-saved-'), 'run');
  const hidden = [8];
  const spec = modelSpecFor(env, hidden);
  const store = new CheckpointStore(join(dir, 'checkpoints'));
  let params = new Float64Array(0);
  for (const v of versions) {
    params = Float64Array.from(initParams(spec, v + 1));
    const n = params.length;
    const state = {
      params,
      adam: { m: new Float64Array(n), v: new Float64Array(n), t: v },
      rng: [1, 2, 3, 4] as [number, number, number, number],
      version: v,
    };
    store.save(
      toCheckpoint(state, {
        envSteps: 100 * v,
        elapsedMs: 10,
        counts: { received: 0, trained: 0, dropped: 0, rejected: 0, lost: 0, pending: 0, dropReasons: {}, rejectReasons: {} },
        returns: { last: [], episodes: 0 },
        randomReturn: 0,
        lastEval: null,
        final: v === versions.at(-1),
        modelHash: o.hash ?? modelHash(spec),
        codeVersion: 'test',
        config: { env, hidden, seed: o.seed ?? 7 },
        savedAt: '2026-01-01T00:00:00Z',
      }),
    );
  }
  return { dir, params };
}
