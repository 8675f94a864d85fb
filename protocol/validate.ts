/**
 * Semantic checks of decoded messages, the ones a decoder cannot do alone: shapes against the
 * environment, finiteness, action range, 0/1 flags, the model hash. Each returns null for a
 * valid message or a reason `CODE: detail` naming the field and the bad value (codes in
 * `errors.ts`). They never throw on any decoded message; hot path, so no allocation per element.
 */
import type { EnvSpec } from '../model/spec.js';
import { MAX_ROLLOUT_STEPS } from './codec.js';
import { reason } from './errors.js';
import type { HelloMsg, ParamsMsg, RolloutMsg } from './messages.js';

/** Index of the first NaN or infinite element, or -1. */
function firstNonFinite(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (x - x !== 0) return i; // NaN - NaN and Inf - Inf are NaN
  }
  return -1;
}

function finite(field: string, a: Float32Array): string | null {
  const i = firstNonFinite(a);
  return i < 0 ? null : reason('NOT_FINITE', `${field}[${i}] is ${a[i]}`);
}

function length(field: string, a: ArrayLike<number>, expected: number, formula: string): string | null {
  return a.length === expected ? null : reason('SHAPE_MISMATCH', `${field} has length ${a.length}, expected ${formula} = ${expected}`);
}

function flags(field: string, a: Uint8Array): string | null {
  for (let i = 0; i < a.length; i++) {
    if (a[i] > 1) return reason('BAD_FLAG', `${field}[${i}] is ${a[i]}, expected 0 or 1`);
  }
  return null;
}

/** Discrete envs: T * E actions and no box actions; box envs: T * E * A finite box actions and no discrete ones. */
function actionShape(msg: RolloutMsg, env: EnvSpec, n: number): string | null {
  if (env.actionKind !== 'box') {
    if (msg.boxActions !== undefined)
      return reason('SHAPE_MISMATCH', `rollout carries ${msg.boxActions.length} box actions, env ${env.id} has discrete actions`);
    return length('rollout.actions', msg.actions, n, 'T * E');
  }
  if (msg.boxActions === undefined)
    return reason('SHAPE_MISMATCH', `rollout carries discrete actions, env ${env.id} has box actions of dimension ${env.nActions}`);
  return (
    length('rollout.actions', msg.actions, 0, 'none for box actions') ??
    length('rollout.boxActions', msg.boxActions, n * env.nActions, 'T * E * A')
  );
}

/**
 * Check a decoded rollout against the learner's environment. Accepted: 1 <= T, E and
 * T * E <= MAX_ROLLOUT_STEPS, obsDim = env.obsDim, every array of its declared shape, actions in
 * [0, env.nActions) (box envs: T * E * A finite boxActions instead), terminated/truncated in {0, 1} (both set is allowed, as in Gymnasium;
 * terminated wins downstream), finalObs holding one observation per truncated step, finite
 * obs/lastObs/finalObs/rewards/logmu/episodeReturns, logmu <= 1e-6 (discrete actions only: a
 * Gaussian log-density may be positive), episode lengths >= 1.
 * Returns null or the first reason found.
 */
export function validateRollout(msg: RolloutMsg, env: EnvSpec): string | null {
  const { T, E, obsDim } = msg;
  if (!(T >= 1 && E >= 1)) return reason('SHAPE_MISMATCH', `rollout T is ${T} and E is ${E}, both must be >= 1`);
  const n = T * E;
  if (n > MAX_ROLLOUT_STEPS) return reason('TOO_LARGE', `rollout T * E is ${n}, max ${MAX_ROLLOUT_STEPS}`);
  if (obsDim !== env.obsDim) return reason('SHAPE_MISMATCH', `rollout.obsDim is ${obsDim}, env ${env.id} has obsDim ${env.obsDim}`);
  let nTruncated = 0;
  for (let i = 0; i < msg.truncated.length; i++) nTruncated += msg.truncated[i];
  const shapeReason =
    length('rollout.obs', msg.obs, n * obsDim, 'T * E * obsDim') ??
    length('rollout.lastObs', msg.lastObs, E * obsDim, 'E * obsDim') ??
    actionShape(msg, env, n) ??
    length('rollout.rewards', msg.rewards, n, 'T * E') ??
    length('rollout.terminated', msg.terminated, n, 'T * E') ??
    length('rollout.truncated', msg.truncated, n, 'T * E') ??
    length('rollout.logmu', msg.logmu, n, 'T * E') ??
    flags('rollout.terminated', msg.terminated) ??
    flags('rollout.truncated', msg.truncated) ??
    length('rollout.finalObs', msg.finalObs, nTruncated * obsDim, 'count(truncated) * obsDim') ??
    length('rollout.episodeLengths', msg.episodeLengths, msg.episodeReturns.length, 'episodeReturns.length') ??
    (msg.source === undefined ? null : (length('rollout.source', msg.source, E, 'E') ?? flags('rollout.source', msg.source)));
  if (shapeReason !== null) return shapeReason;
  for (let i = 0; i < msg.actions.length; i++) {
    const a = msg.actions[i];
    if (!(a >= 0 && a < env.nActions)) return reason('BAD_ACTION', `rollout.actions[${i}] is ${a}, expected 0 <= a < ${env.nActions}`);
  }
  const finiteReason =
    finite('rollout.obs', msg.obs) ??
    finite('rollout.lastObs', msg.lastObs) ??
    finite('rollout.finalObs', msg.finalObs) ??
    finite('rollout.rewards', msg.rewards) ??
    finite('rollout.logmu', msg.logmu) ??
    (msg.boxActions === undefined ? null : finite('rollout.boxActions', msg.boxActions)) ??
    finite('rollout.episodeReturns', msg.episodeReturns);
  if (finiteReason !== null) return finiteReason;
  // A discrete log mu is a log-probability (<= 0; the slack absorbs float32 rounding of log(1));
  // a box action's is a log-density, which is positive where the density exceeds 1.
  for (let i = 0; env.actionKind !== 'box' && i < n; i++) {
    if (msg.logmu[i] > 1e-6) return reason('BAD_LOGPROB', `rollout.logmu[${i}] is ${msg.logmu[i]}, expected <= 0`);
  }
  for (let i = 0; i < msg.episodeLengths.length; i++) {
    if (msg.episodeLengths[i] < 1) return reason('BAD_EPISODE', `rollout.episodeLengths[${i}] is ${msg.episodeLengths[i]}, expected >= 1`);
  }
  return null;
}

/**
 * Check an actor's Hello against what the learner runs: same model hash, same environment id
 * and shapes, numEnvs >= 1. Returns null or the first reason found.
 */
export function validateHello(msg: HelloMsg, expected: { modelHash: number; env: EnvSpec }): string | null {
  const { env } = expected;
  if (msg.modelHash !== expected.modelHash)
    return reason(
      'MODEL_HASH',
      `hello.modelHash is ${msg.modelHash}, the learner's is ${expected.modelHash} (the network or the environment spec differs: check --hidden, --env and --env-module)`,
    );
  if (msg.envId !== env.id) return reason('ENV_MISMATCH', `hello.envId is '${msg.envId}', the learner runs '${env.id}'`);
  if (msg.obsDim !== env.obsDim) return reason('ENV_MISMATCH', `hello.obsDim is ${msg.obsDim}, env ${env.id} has ${env.obsDim}`);
  if (msg.nActions !== env.nActions) return reason('ENV_MISMATCH', `hello.nActions is ${msg.nActions}, env ${env.id} has ${env.nActions}`);
  if (!(msg.numEnvs >= 1)) return reason('SHAPE_MISMATCH', `hello.numEnvs is ${msg.numEnvs}, expected >= 1`);
  return null;
}

/**
 * Check a Params message on the actor side: same model hash, paramCount parameters, all
 * finite. Returns null or the first reason found.
 */
export function validateParams(msg: ParamsMsg, expected: { modelHash: number; paramCount: number }): string | null {
  if (msg.modelHash !== expected.modelHash)
    return reason('MODEL_HASH', `params.modelHash is ${msg.modelHash}, this actor's is ${expected.modelHash}`);
  return length('params.params', msg.params, expected.paramCount, 'paramCount') ?? finite('params.params', msg.params);
}

/** Per-step reward bound assumed for an environment that declares no `rewardRange`: finite, and a 1,000-step return of it stays far inside float32. */
export const DEFAULT_REWARD_BOUND = 1e6;

/** The reward bounds [low, high] the learner holds `env` to: its declared range, else +-DEFAULT_REWARD_BOUND. */
export function rewardBounds(env: EnvSpec): readonly [number, number] {
  return env.rewardRange ?? [-DEFAULT_REWARD_BOUND, DEFAULT_REWARD_BOUND];
}

/** Float32 round-off slack of a value of magnitude `m` (a reward is stored as float32; 2^-23 relative, doubled). */
const slack = (m: number): number => 2.5e-7 * Math.abs(m) + 1e-12;

/**
 * Check every reward against the environment's reward bounds (`rewardBounds`), with float32
 * round-off slack. Run after `validateRollout` (rewards finite). Returns null or BAD_REWARD.
 */
export function validateRewards(msg: RolloutMsg, env: EnvSpec): string | null {
  const [lo, hi] = rewardBounds(env);
  const r = msg.rewards;
  const a = lo - slack(lo),
    b = hi + slack(hi);
  for (let i = 0; i < r.length; i++) {
    if (!(r[i] >= a && r[i] <= b))
      return reason(
        'BAD_REWARD',
        `rollout.rewards[${i}] is ${r[i]}, env ${env.id} ${env.rewardRange ? 'declares' : 'declares no range; the learner assumes'} [${lo}, ${hi}]`,
      );
  }
  return null;
}

/**
 * Check that a rollout's episode statistics agree with its steps (run after `validateRollout`
 * and `validateRewards`). Each finished episode is matched to a done step (terminated or
 * truncated) in the order the actor's vector env reports them (time-major, env by env); at
 * most one episode per done step, each of length <= env.maxEpisodeSteps. When the episodes
 * match the done steps one to one:
 * - an episode that started inside the segment has exactly the length of its steps there and
 *   a return equal to the sum of its rewards (float32 round-off slack);
 * - one that started earlier is at least as long as its steps inside the segment, and its
 *   return minus their sum lies within (length - those steps) x the reward bounds.
 * Otherwise (fewer episodes than done steps) each return lies within length x the reward
 * bounds. A forged CartPole return of 1000 fails all three. Returns null or BAD_EPISODE.
 */
export function validateEpisodes(msg: RolloutMsg, env: EnvSpec): string | null {
  const { T, E } = msg;
  const [lo, hi] = rewardBounds(env);
  let done = 0;
  for (let i = 0; i < T * E; i++) if (msg.terminated[i] === 1 || msg.truncated[i] === 1) done++;
  const k = msg.episodeReturns.length;
  if (k > done) return reason('BAD_EPISODE', `rollout has ${k} episode returns, but only ${done} steps end an episode`);
  const within = (i: number, R: number, steps: number, base: number, absBase: number): string | null => {
    const tol = slack(absBase) * 4 + slack(R) * 4 + steps * (slack(lo) + slack(hi));
    if (R - base >= steps * lo - tol && R - base <= steps * hi + tol) return null;
    return reason(
      'BAD_EPISODE',
      `rollout.episodeReturns[${i}] is ${R}: with ${base} from its steps in this segment, the other ${steps} steps would need ${(R - base) / Math.max(1, steps)} each, env ${env.id} allows [${lo}, ${hi}]`,
    );
  };
  for (let i = 0; i < k; i++) {
    const len = msg.episodeLengths[i];
    if (len > env.maxEpisodeSteps)
      return reason('BAD_EPISODE', `rollout.episodeLengths[${i}] is ${len}, env ${env.id} truncates at ${env.maxEpisodeSteps}`);
  }
  if (k < done) {
    for (let i = 0; i < k; i++) {
      const bad = within(i, msg.episodeReturns[i], msg.episodeLengths[i], 0, 0);
      if (bad) return bad;
    }
    return null;
  }
  // One to one: walk the steps time-major, keeping each env's running sum since its episode start.
  const sum = new Float64Array(E),
    abs = new Float64Array(E),
    steps = new Int32Array(E),
    started = new Uint8Array(E); // 1: the env's current episode started inside this segment
  let i = 0;
  for (let t = 0; t < T; t++) {
    for (let e = 0; e < E; e++) {
      const j = t * E + e;
      const r = msg.rewards[j];
      sum[e] += r;
      abs[e] += Math.abs(r);
      steps[e]++;
      if (msg.terminated[j] !== 1 && msg.truncated[j] !== 1) continue;
      const len = msg.episodeLengths[i],
        R = msg.episodeReturns[i];
      if (started[e] === 1 ? len !== steps[e] : len < steps[e])
        return reason(
          'BAD_EPISODE',
          `rollout.episodeLengths[${i}] is ${len}, but the episode ending at step ${t} of env ${e} has ${started[e] === 1 ? '' : 'at least '}${steps[e]} steps`,
        );
      const bad = within(i, R, len - steps[e], sum[e], abs[e]);
      if (bad) return bad;
      i++;
      sum[e] = 0;
      abs[e] = 0;
      steps[e] = 0;
      started[e] = 1;
    }
  }
  return null;
}
