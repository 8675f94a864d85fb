/**
 * The framework's side of a plug-in environment: seeds every reset from an Rng stream, counts
 * steps and truncates at spec.maxEpisodeSteps (as Gymnasium's TimeLimit), validates actions,
 * checks observations and rewards, and returns float32 observations. `DiscreteEnv` adapts a
 * discrete one to the `Env` interface the actor's code uses.
 */
import type { EnvSpec } from '../model/spec.js';
import type { Rng } from '../model/rng.js';
import type { EnvPlugin, EnvPluginInstance, EnvPluginSpec } from './api.js';
import { checkObservation, checkStepFields, EnvRuntimeError } from './check.js';
import type { Env, StepResult } from './types.js';
import { EnvCall, enterEnvCall, leaveEnvCall } from './watchdog.js';

/** The message for callers that need a discrete env (the `Env` interface) but got a box env. */
export function continuousNotSupported(id: string): Error {
  return new RangeError(
    `env '${id}' has continuous actions: the discrete Env interface cannot step it; use makeManagedEnv (the Gaussian policy's envs)`,
  );
}

/**
 * The `EnvSpec` (model/spec.ts) of a plug-in spec: nActions is the number of discrete actions,
 * or for a box the action dimension A with actionKind 'box'.
 */
export function envSpecOfPlugin(id: string, spec: EnvPluginSpec): EnvSpec {
  if (spec.action.type === 'box')
    return Object.freeze({
      id,
      obsDim: spec.observationSize,
      nActions: spec.action.low.length,
      maxEpisodeSteps: spec.maxEpisodeSteps,
      actionKind: 'box' as const,
      ...(spec.rewardRange ? { rewardRange: spec.rewardRange } : {}),
    });
  return Object.freeze({
    id,
    obsDim: spec.observationSize,
    nActions: spec.action.n,
    maxEpisodeSteps: spec.maxEpisodeSteps,
    ...(spec.rewardRange ? { rewardRange: spec.rewardRange } : {}),
  });
}

/** The discrete `EnvSpec` of a plug-in spec; a RangeError for a box spec. */
export function discreteSpec(id: string, spec: EnvPluginSpec): EnvSpec {
  if (spec.action.type !== 'discrete') throw continuousNotSupported(id);
  return envSpecOfPlugin(id, spec);
}

/** One plug-in env run by the framework (time limit, seeding, checks). */
export class ManagedEnv {
  readonly spec: EnvPluginSpec;
  /** The plug-in's own instance (tests and replays may set its state). */
  readonly instance: EnvPluginInstance;
  private steps = 0;
  private running = false;
  private readonly actionBuf: Float32Array | null;

  constructor(
    readonly id: string,
    plugin: EnvPlugin,
  ) {
    this.spec = plugin.spec;
    enterEnvCall(EnvCall.create);
    let inst;
    try {
      inst = plugin.create();
    } finally {
      leaveEnvCall();
    }
    if (inst === null || typeof inst !== 'object' || typeof inst.reset !== 'function' || typeof inst.step !== 'function') {
      throw new EnvRuntimeError(id, `env '${id}': create() must return an object with reset(seed) and step(action) methods`);
    }
    this.instance = inst;
    this.actionBuf = plugin.spec.action.type === 'box' ? new Float32Array(plugin.spec.action.low.length) : null;
  }

  /** Steps taken in the current episode. */
  get elapsedSteps(): number {
    return this.steps;
  }

  /** Start an episode with a u32 seed drawn from `rng`; returns the first observation. */
  reset(rng: Rng): Float32Array {
    return this.resetSeeded(rng.nextU32());
  }

  /** Start an episode with an explicit u32 seed. */
  resetSeeded(seed: number): Float32Array {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
      throw new RangeError(`env '${this.id}': reset seed must be a u32, got ${seed}`);
    enterEnvCall(EnvCall.reset);
    let raw;
    try {
      raw = this.instance.reset(seed);
    } finally {
      leaveEnvCall();
    }
    const obs = checkObservation(this.id, 'reset', raw, this.spec.observationSize);
    this.steps = 0;
    this.running = true;
    return obs;
  }

  /**
   * One step. Discrete envs take an integer in [0, n); box envs an array of low.length finite
   * numbers, handed to the env as float32. `truncated` is the env's own flag or the time limit.
   * Throws a RangeError for a bad action or a step outside an episode, an EnvRuntimeError
   * when the env returns a bad observation, reward or flag.
   */
  step(action: number | ArrayLike<number>): StepResult {
    if (!this.running)
      throw new Error(`env '${this.id}': step() called ${this.steps === 0 ? 'before reset()' : 'after the episode ended; call reset()'}`);
    const a = this.spec.action;
    let arg: number | Float32Array;
    if (a.type === 'discrete') {
      if (typeof action !== 'number' || !Number.isInteger(action) || action < 0 || action >= a.n) {
        throw new RangeError(
          `env '${this.id}' action must be an integer in [0, ${a.n}), got ${typeof action === 'number' ? action : 'an array'}`,
        );
      }
      arg = action;
    } else {
      const buf = this.actionBuf as Float32Array;
      if (typeof action === 'number' || action.length !== buf.length) {
        throw new RangeError(
          `env '${this.id}' action must be an array of ${buf.length} numbers, got ${typeof action === 'number' ? `the number ${action}` : `${action.length} values`}`,
        );
      }
      for (let i = 0; i < buf.length; i++) {
        buf[i] = action[i];
        if (!Number.isFinite(buf[i])) throw new RangeError(`env '${this.id}' action[${i}] must be a finite float32, got ${action[i]}`);
      }
      arg = buf;
    }
    enterEnvCall(EnvCall.step);
    let r;
    try {
      r = this.instance.step(arg);
    } finally {
      leaveEnvCall();
    }
    if (r === null || typeof r !== 'object')
      throw new EnvRuntimeError(
        this.id,
        `env '${this.id}': step must return { observation, reward, terminated, truncated }, got ${String(r)}`,
      );
    checkStepFields(this.id, r.reward, r.terminated, r.truncated);
    const obs = checkObservation(this.id, 'step', r.observation, this.spec.observationSize);
    this.steps++;
    const truncated = r.truncated || this.steps >= this.spec.maxEpisodeSteps;
    if (r.terminated || truncated) this.running = false;
    return { obs, reward: r.reward, terminated: r.terminated, truncated };
  }
}

/** A discrete ManagedEnv behind the actor's `Env` interface. */
export class DiscreteEnv implements Env {
  readonly spec: EnvSpec;

  constructor(readonly managed: ManagedEnv) {
    this.spec = discreteSpec(managed.id, managed.spec);
  }

  reset(rng: Rng): Float32Array {
    return this.managed.reset(rng);
  }

  step(action: number): StepResult {
    return this.managed.step(action);
  }
}
