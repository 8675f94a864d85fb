/**
 * `--tensorboard DIR` of `train` and `learner`: the learner also writes TensorBoard event files
 * to DIR while training (analysis/tensorboard.ts, fed from each update record, then the
 * summary). A per-process option: not a run setting, so not in config.json; `train` passes it
 * to its learner child.
 */
import path from 'node:path';
import type { Options } from 'yargs';
import { UsageError } from './errors.js';

export function tensorboardOption(): Options {
  return {
    type: 'string',
    nargs: 1,
    describe:
      'also write TensorBoard event files to DIR while training (one event per update at step = env steps, then the final evaluation); not saved in config.json',
  };
}

/** Check `--tensorboard DIR`: absent, or a non-empty path (returned resolved). */
export function tensorboardDir(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.trim() === '') throw new UsageError('--tensorboard: missing directory; e.g. --tensorboard runs/tb');
  return path.resolve(v);
}
