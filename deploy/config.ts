/**
 * The resolved configuration of a training run: one typed record, every field documented
 * with its default (CleanRL's `Args`). The CLI fills it from flags and a preset, `validateConfig`
 * checks it once (errors name the flag), then it is frozen and written to
 * `runs/<id>/config.json`; the learner and the actors read the same file.
 */
import { DEFAULT_OBJECTIVE, METHODS, type ObjectiveConfig } from '../learner/objectives/config.js';
import { UsageError } from './errors.js';
import { maxLagOf, parseLagSpec, type LagSpec } from '../actor/lag.js';
import type { AdvantageKind } from '../learner/config.js';

export type { AdvantageKind };

export interface TrainConfig {
  /** Run id; the run directory is `runs/<runId>` unless `runDir` is set. */
  runId: string;
  /** Where logs, config and summary go. */
  runDir: string;
  /** Human label of the correction, e.g. 'v5 floor=neg-is'; used to group runs in reports. */
  label: string;
  /** Environment id: 'CartPole-v1' or 'Acrobot-v1'. */
  env: string;
  /** Master seed: env resets, sampling, parameter init and minibatch order derive from it. */
  seed: number;
  /** The off-policy correction (THEORY.md section 2). */
  objective: ObjectiveConfig;
  /** Advantage estimator: 'vtrace' (default) or 'gae' (THEORY.md section 4). */
  advantage: AdvantageKind;
  /** Normalise advantages per batch to mean 0, std 1. Default true. */
  normalizeAdvantages: boolean;
  /** Discount gamma. Default 0.99. */
  discount: number;
  /** GAE lambda, also the V-trace trace lambda. Default 0.95. */
  lambda: number;
  /** Hidden layer widths of the policy and value MLPs. Default [64, 64]. */
  hidden: number[];
  /** Adam learning rate. Default 2.5e-4. */
  lr: number;
  /** Decay the learning rate linearly to 0 over `steps`. Default true. */
  annealLr: boolean;
  /** Adam epsilon. Default 1e-5 (CleanRL). */
  adamEps: number;
  /** Passes over each batch. Default 4. */
  epochs: number;
  /** Minibatches per epoch. Default 4. */
  minibatches: number;
  /** Entropy bonus coefficient. Default 0.01. */
  entCoef: number;
  /** Value loss coefficient. Default 0.5. */
  vfCoef: number;
  /** Global gradient-norm clip. Default 0.5. */
  maxGradNorm: number;
  /** Segment length T (steps per environment per rollout). Default 32. */
  segmentSteps: number;
  /** Environments per worker thread E. Default 4. */
  envsPerWorker: number;
  /** Worker threads per actor W. Default 1. */
  workers: number;
  /** Actor processes N. Default 2. */
  actors: number;
  /** Segments per learner update B. Default: actors * workers (one per slot). */
  batchSegments: number;
  /** Behaviour-version choice: 'none' | 'fixed:K' | 'uniform:K1-K2' | 'geometric:MEAN'. */
  lag: string;
  /** Delay each segment by this many ms in the actor (stress tests). Default 0. */
  actorDelayMs: number;
  /** Drop rollouts older than this many versions at admission; -1 = no limit. */
  maxLag: number;
  /** Parameter versions kept by the learner and the actors for lag injection. Default 128. */
  historyVersions: number;
  /** Unacknowledged rollouts per worker slot. Default 1: acting waits for the update that trains on the previous rollout, so the natural lag is 0; more overlaps acting with learning and adds natural lag. */
  maxInFlight: number;
  /** Intake queue capacity in segments (backpressure beyond it). Default 4 * batchSegments. */
  queueCapacity: number;
  /** Stop after this many environment steps trained on. */
  steps: number;
  /** Stop after this many seconds (0 = no limit). */
  timeSec: number;
  /** Stop when an evaluation reaches this mean return (null = never). */
  targetReturn: number | null;
  /** Evaluate the current policy every N updates (0 = never). */
  evalEvery: number;
  /** Episodes per evaluation. */
  evalEpisodes: number;
  /** Episodes of the final evaluation. Default 100. */
  finalEvalEpisodes: number;
  /** Entropy (nats) below which a policy with eval return below random counts as collapsed. */
  collapseEntropy: number;
  /** Fixed schedule of versions and training order: a run is a function of config and seed. */
  deterministic: boolean;
  /**
   * Gradient path: 'js' (float64 hand-written backward pass on wasm SIMD kernels, about 5x
   * faster than tfjs-wasm here at n = 256) or 'tfjs' (autodiff on --backend).
   */
  grad: 'js' | 'tfjs';
  /** Tensor backend: 'auto' | 'node' | 'wasm' | 'cpu'. */
  backend: 'auto' | 'node' | 'wasm' | 'cpu';
  /** Name of the preset this config started from, or null. */
  preset: string | null;
}

export const DEFAULT_CONFIG: Readonly<Omit<TrainConfig, 'runId' | 'runDir' | 'label'>> = Object.freeze({
  env: 'CartPole-v1',
  seed: 1,
  objective: { ...DEFAULT_OBJECTIVE },
  advantage: 'vtrace',
  normalizeAdvantages: true,
  discount: 0.99,
  lambda: 0.95,
  hidden: [64, 64],
  lr: 2.5e-4,
  annealLr: true,
  adamEps: 1e-5,
  epochs: 4,
  minibatches: 4,
  entCoef: 0.01,
  vfCoef: 0.5,
  maxGradNorm: 0.5,
  segmentSteps: 32,
  envsPerWorker: 4,
  workers: 1,
  actors: 2,
  batchSegments: 2,
  lag: 'none',
  actorDelayMs: 0,
  maxLag: -1,
  historyVersions: 128,
  maxInFlight: 1,
  queueCapacity: 8,
  steps: 100_000,
  timeSec: 0,
  targetReturn: null,
  evalEvery: 10,
  evalEpisodes: 10,
  finalEvalEpisodes: 100,
  collapseEntropy: 0.05,
  deterministic: false,
  grad: 'js',
  backend: 'auto',
  preset: null,
});

/** Parse `--lag`; throws a UsageError naming the value and the accepted forms. */
export function parseLag(s: string): LagSpec {
  const spec = parseLagSpec(s);
  if (!spec) throw new UsageError(`--lag: '${s}' is not a lag schedule; use none, fixed:K, uniform:K1-K2 or geometric:MEAN (K integers >= 0, MEAN > 0)`);
  return spec;
}

/** A short label for grouping runs: the method plus the options that differ from defaults. */
export function objectiveLabel(o: ObjectiveConfig): string {
  const parts: string[] = [o.method];
  if (o.method === 'v5' || o.method === 'v5-fixed') {
    if (o.floor !== 'const') parts.push(`floor=${o.floor}`);
    if (o.trust !== 'linear') parts.push(`trust=${o.trust}`);
    if (o.sftTrust) parts.push('sft-trust');
  }
  return parts.join(' ');
}

/** Check every field once; throws a UsageError that names the flag, the value and what is accepted. */
export function validateConfig(c: TrainConfig): void {
  const posInt = (flag: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new UsageError(`--${flag}: ${v} must be a positive integer`);
  };
  const nonNeg = (flag: string, v: number) => {
    if (!Number.isFinite(v) || v < 0) throw new UsageError(`--${flag}: ${v} must be a finite number >= 0`);
  };
  const pos = (flag: string, v: number) => {
    if (!Number.isFinite(v) || v <= 0) throw new UsageError(`--${flag}: ${v} must be a finite number > 0`);
  };
  if (!(METHODS as readonly string[]).includes(c.objective.method)) {
    throw new UsageError(`--method: '${c.objective.method}' is not a method; use one of ${METHODS.join(', ')}`);
  }
  posInt('segment-steps', c.segmentSteps);
  posInt('envs-per-worker', c.envsPerWorker);
  posInt('workers', c.workers);
  posInt('actors', c.actors);
  posInt('batch-segments', c.batchSegments);
  posInt('epochs', c.epochs);
  posInt('minibatches', c.minibatches);
  posInt('history-versions', c.historyVersions);
  posInt('max-inflight', c.maxInFlight);
  posInt('queue-capacity', c.queueCapacity);
  posInt('steps', c.steps);
  posInt('final-eval-episodes', c.finalEvalEpisodes);
  posInt('eval-episodes', c.evalEpisodes);
  if (!Number.isInteger(c.seed) || c.seed < 0) throw new UsageError(`--seed: ${c.seed} must be an integer >= 0`);
  if (!Number.isInteger(c.evalEvery) || c.evalEvery < 0) throw new UsageError(`--eval-every: ${c.evalEvery} must be an integer >= 0`);
  pos('lr', c.lr);
  pos('adam-eps', c.adamEps);
  nonNeg('ent-coef', c.entCoef);
  nonNeg('vf-coef', c.vfCoef);
  pos('max-grad-norm', c.maxGradNorm);
  nonNeg('actor-delay-ms', c.actorDelayMs);
  nonNeg('time', c.timeSec);
  nonNeg('collapse-entropy', c.collapseEntropy);
  if (!(c.discount > 0 && c.discount <= 1)) throw new UsageError(`--discount: ${c.discount} must be in (0, 1]`);
  if (!(c.lambda >= 0 && c.lambda <= 1)) throw new UsageError(`--lambda: ${c.lambda} must be in [0, 1]`);
  if (c.hidden.length === 0 || c.hidden.some((h) => !Number.isInteger(h) || h < 1)) {
    throw new UsageError(`--hidden: '${c.hidden.join(',')}' must be comma-separated positive integers, e.g. 64,64`);
  }
  if (!Number.isInteger(c.maxLag) || c.maxLag < -1) throw new UsageError(`--max-lag: ${c.maxLag} must be an integer >= 0, or -1 for no limit`);
  const lag = parseLag(c.lag);
  if (maxLagOf(lag) + 2 > c.historyVersions) {
    throw new UsageError(`--lag ${c.lag} needs up to ${maxLagOf(lag)} versions of history but --history-versions is ${c.historyVersions}; raise --history-versions to at least ${maxLagOf(lag) + 2}`);
  }
  const samples = c.batchSegments * c.segmentSteps * c.envsPerWorker;
  if (c.minibatches > samples) {
    throw new UsageError(`--minibatches: ${c.minibatches} exceeds the ${samples} samples per update (batch-segments x segment-steps x envs-per-worker)`);
  }
  if (c.deterministic && c.batchSegments % (c.actors * c.workers) !== 0) {
    throw new UsageError(`--batch-segments: ${c.batchSegments} must be a multiple of actors x workers (${c.actors * c.workers}) with --deterministic, so that every worker contributes the same number of segments to each update`);
  }
  const o = c.objective;
  pos('eps', o.eps); pos('rho-bar', o.rhoBar); pos('c-bar', o.cBar); pos('tau-pos', o.tauPos); pos('tau-neg', o.tauNeg);
  pos('tau-c', o.tauC); pos('tau-h', o.tauH);
  if (!(o.essMin > 0 && o.essMin <= 1)) throw new UsageError(`--ess-min: ${o.essMin} must be in (0, 1]`);
  for (const [flag, v] of [['gamma-base', o.gammaBase], ['gamma-max', o.gammaMax], ['gamma', o.gamma]] as const) {
    if (!(v >= 0 && v <= 1)) throw new UsageError(`--${flag}: ${v} must be in [0, 1]`);
  }
  if (o.gammaBase > o.gammaMax) throw new UsageError(`--gamma-base: ${o.gammaBase} must not exceed --gamma-max ${o.gammaMax}`);
}

/** Deep-freeze a config so that no component can change it after validation. */
export function freezeConfig<T>(x: T): T {
  if (x && typeof x === 'object') {
    for (const v of Object.values(x)) freezeConfig(v);
    Object.freeze(x);
  }
  return x;
}
