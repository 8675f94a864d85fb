/**
 * The system as a library (`import { train, loadPolicy } from 'isreshape'`):
 *
 * - `train(config, { onUpdate, signal })` runs what `isreshape train` runs (the learner and the
 *   actor processes on this machine, a new run directory) and resolves to the run's summary
 *   record with its `runDir`. `config` is keyed by the long flag names, as a `--config` file is
 *   (`{ env: 'CartPole-v1', method: 'ppo', steps: 20000 }`); unset keys take their defaults.
 * - `loadPolicy(runDirOrCheckpoint)` loads the newest valid checkpoint of a run (or one
 *   checkpoint file) and gives `act(obs, { greedy })` (an action for one observation: an integer
 *   for discrete actions, an array clipped to the box for box actions) and
 *   `evaluate(episodes, { greedy, seed })` (complete episodes, as `isreshape eval`).
 *
 * Bad settings reject with the message the CLI prints (a UsageError).
 */
import { Writable } from 'node:stream';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { buildConfig } from './options.js';
import { loadEnvModuleOf } from './envModule.js';
import { loadSavedPolicy } from './savedPolicy.js';
import { headOf, type ModelSpec } from '../model/spec.js';
import { policyLogits } from '../model/forward.js';
import { sampleActions, sampleGaussianActions } from '../model/distributions.js';
import { logStdOffset } from '../model/params.js';
import { Rng } from '../model/rng.js';
import { makeManagedEnv } from '../envs/registry.js';
import { evaluatePolicy } from '../envs/evaluate.js';
import type { SummaryRecord, UpdateRecord } from '../protocol/records.js';

export type { SummaryRecord, UpdateRecord } from '../protocol/records.js';
export { UsageError } from './errors.js';

/** Training settings keyed by long flag name (`isreshape train --help`), e.g. `{ env: 'CartPole-v1', steps: 20000 }`. */
export type TrainSettings = Readonly<Record<string, string | number | boolean | readonly number[] | null>>;

export interface TrainOptions {
  /** Called with every update record (the log schema's `kind: "update"`). */
  onUpdate?: (update: UpdateRecord) => void;
  /** Abort to stop after the current update; the final evaluation still runs and train resolves. */
  signal?: AbortSignal;
  /** Where the start-up and summary lines go (default: nowhere). */
  out?: NodeJS.WritableStream;
}

/** The run's summary record, and where the run is. */
export type TrainResult = SummaryRecord & { runDir: string };

/** Train a policy; resolves when the run has finished (budget, target return or abort). */
export async function train(config: TrainSettings, options: TrainOptions = {}): Promise<TrainResult> {
  const values = { ...config } as Record<string, unknown>;
  await loadEnvModuleOf(values);
  const cfg = buildConfig({}, { file: { values, file: 'train() settings' } });
  const { launchTraining } = await import('./launcher.js');
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      text = (text + String(chunk)).slice(-4000);
      options.out?.write(chunk);
      cb();
    },
  });
  const code = await launchTraining(cfg, {
    quiet: true,
    out: sink,
    ...(options.onUpdate ? { onUpdate: options.onUpdate } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (code !== 0) throw new Error(`train: the run failed (${cfg.runDir}):\n${text.trim()}`);
  const summary = JSON.parse(readFileSync(path.join(cfg.runDir, 'summary.json'), 'utf8')) as SummaryRecord;
  return { ...summary, runDir: cfg.runDir };
}

export interface EvaluateResult {
  episodes: number;
  mean: number;
  std: number;
  returns: number[];
}

/** A saved policy, ready to act. */
export interface Policy {
  envId: string;
  version: number;
  /** The checkpoint file it came from. */
  file: string;
  spec: ModelSpec;
  /** One action for one observation: sampled (default) or greedy (argmax / the Gaussian mean). */
  act(obs: ArrayLike<number>, options?: { greedy?: boolean }): number | number[];
  /** Run complete episodes of the policy's environment (default: sampled actions, the run's seed). */
  evaluate(episodes: number, options?: { greedy?: boolean; seed?: number }): EvaluateResult;
}

/** Load the newest valid checkpoint of a run directory, or one checkpoint file. */
export async function loadPolicy(runDirOrCheckpoint: string, options: { seed?: number } = {}): Promise<Policy> {
  const p = await loadSavedPolicy(runDirOrCheckpoint, 'loadPolicy');
  const spec = p.spec;
  const gaussian = headOf(spec) === 'gaussian';
  const A = spec.nActions;
  const rng = new Rng(options.seed ?? p.seed);
  const obsBuf = new Float32Array(spec.obsDim);
  const logits = new Float32Array(A);
  const logp = new Float32Array(1);
  const discrete = new Int32Array(1);
  const box = new Float32Array(gaussian ? A : 0);
  const space = makeManagedEnv(p.envId).spec.action;
  return {
    envId: p.envId,
    version: p.version,
    file: p.file,
    spec,
    act(obs, o = {}) {
      if (obs.length !== spec.obsDim) throw new RangeError(`act: ${p.envId} observations have ${spec.obsDim} numbers, got ${obs.length}`);
      obsBuf.set(Array.from(obs));
      policyLogits(spec, p.params, obsBuf, 1, logits);
      if (!gaussian) {
        sampleActions(logits, 1, A, rng, discrete, logp, o.greedy ?? false);
        return discrete[0]!;
      }
      sampleGaussianActions(logits, 1, A, p.params, logStdOffset(spec), rng, box, logp, o.greedy ?? false);
      if (space.type !== 'box') return Array.from(box);
      return Array.from(box, (x, j) => Math.min(space.high[j]!, Math.max(space.low[j]!, x)));
    },
    evaluate(episodes, o = {}) {
      if (!Number.isInteger(episodes) || episodes < 1) throw new RangeError(`evaluate: episodes must be an integer >= 1, got ${episodes}`);
      const returns = evaluateReturns(p.envId, spec, p.params, episodes, o.greedy ?? false, o.seed ?? p.seed);
      const mean = returns.reduce((a, b) => a + b, 0) / episodes;
      const ss = returns.reduce((a, x) => a + (x - mean) ** 2, 0);
      return { episodes, mean, std: episodes > 1 ? Math.sqrt(ss / (episodes - 1)) : 0, returns };
    },
  };
}

/** The evaluation `isreshape eval` runs (envs/evaluate.ts). */
function evaluateReturns(envId: string, spec: ModelSpec, params: Float64Array, episodes: number, greedy: boolean, seed: number): number[] {
  return evaluatePolicy({ envId, modelSpec: spec, params: Float32Array.from(params), episodes, greedy, seed }).returns;
}
