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

/**
 * Check that a rollout's episode statistics are possible (run after `validateRollout`): at most
 * one finished episode per done step (terminated or truncated) of the segment, each of length
 * <= env.maxEpisodeSteps, and each return |R| <= length x the bound on one step's reward. The
 * environments carry no reward range, so the per-step bound is derived from the segment itself:
 * max(1, 2 x the largest |reward| of its steps); for the built-in environments (|r| <= 1 per
 * step) this caps a CartPole return at its length. Returns null or the first reason found.
 */
export function validateEpisodes(msg: RolloutMsg, env: EnvSpec): string | null {
  let done = 0;
  let maxAbs = 0;
  const n = msg.T * msg.E;
  for (let i = 0; i < n; i++) {
    if (msg.terminated[i] === 1 || msg.truncated[i] === 1) done++;
    const a = Math.abs(msg.rewards[i]);
    if (a > maxAbs) maxAbs = a;
  }
  const k = msg.episodeReturns.length;
  if (k > done) return reason('BAD_EPISODE', `rollout has ${k} episode returns, but only ${done} steps end an episode`);
  const perStep = Math.max(1, 2 * maxAbs);
  for (let i = 0; i < k; i++) {
    const len = msg.episodeLengths[i];
    if (len > env.maxEpisodeSteps)
      return reason('BAD_EPISODE', `rollout.episodeLengths[${i}] is ${len}, env ${env.id} truncates at ${env.maxEpisodeSteps}`);
    const r = msg.episodeReturns[i];
    if (Math.abs(r) > len * perStep)
      return reason('BAD_EPISODE', `rollout.episodeReturns[${i}] is ${r}, more than ${len} steps x ${perStep} per step`);
  }
  return null;
}
