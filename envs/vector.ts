/**
 * E environments stepped in lockstep with auto-reset, the way an actor uses them: the caller
 * owns the output buffers, a finished env is reset immediately (its next observation is the
 * new episode's first), the final observation of a truncated episode is kept for
 * bootstrapping, and finished episodes' returns and lengths are accumulated until taken.
 *
 * Flag convention: `terminated` wins. A step that both terminates and hits the step limit is
 * reported terminated = 1, truncated = 0, because `truncated` means "bootstrap from finalObs"
 * (protocol/messages.ts RolloutMsg).
 */
import type { EnvSpec } from '../model/spec.js';
import type { Rng } from '../model/rng.js';
import { envSpecOf, makeManagedEnv } from './registry.js';
import type { ManagedEnv } from './managed.js';
import type { BoxActionSpace } from './api.js';
import { hasOracle } from './seq.js';

/**
 * Clip row `e` of box actions (E x A) to [low, high] into `out` (A floats): the Gaussian
 * policy's actions are sampled unclipped and clipped only at the environment (as CleanRL's
 * ClipAction wrapper).
 */
export function clipBoxAction(space: BoxActionSpace, actions: Float32Array, e: number, out: Float32Array): Float32Array {
  const A = space.low.length;
  for (let j = 0; j < A; j++) out[j] = Math.min(space.high[j], Math.max(space.low[j], actions[e * A + j]));
  return out;
}

/** Caller-owned outputs of one `VectorEnv.step`, each indexed by env e. */
export interface VectorStepOut {
  /** Next observations (after auto-reset), E * obsDim. */
  obs: Float32Array;
  rewards: Float32Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
  /** Final observation of env e at rows where truncated[e] = 1 (other rows untouched), E * obsDim. */
  finalObs: Float32Array;
}

/** Lockstep auto-resetting envs. */
export class VectorEnv {
  readonly spec: EnvSpec;
  readonly numEnvs: number;
  /** Current observations, E * obsDim; valid after `reset()`. */
  readonly obs: Float32Array;
  private readonly envs: ManagedEnv[];
  private readonly box: BoxActionSpace | null;
  private readonly clipped: Float32Array;
  private readonly rngs: Rng[];
  private readonly epReturn: Float64Array;
  private readonly epLength: Int32Array;
  private doneReturns: number[] = [];
  private doneLengths: number[] = [];
  private started = false;

  /**
   * `numEnvs` copies of `envId`; env e resets with substream `rng.fork(e)`, or with groups of
   * `groupSize` consecutive envs: env e with its own copy of `rng.fork(floor(e / groupSize))`,
   * so the envs of a group get the same reset seeds (the same prompts, when their episodes
   * have the same length).
   */
  constructor(envId: string, numEnvs: number, rng: Rng, groupSize = 1) {
    if (!Number.isInteger(numEnvs) || numEnvs < 1) throw new RangeError(`numEnvs must be a positive integer, got ${numEnvs}`);
    if (!Number.isInteger(groupSize) || groupSize < 1 || numEnvs % groupSize !== 0)
      throw new RangeError(`groupSize ${groupSize} must be a positive integer dividing numEnvs ${numEnvs}`);
    this.spec = envSpecOf(envId);
    this.envs = Array.from({ length: numEnvs }, () => makeManagedEnv(envId));
    const action = this.envs[0].spec.action;
    this.box = action.type === 'box' ? action : null;
    this.clipped = new Float32Array(this.box === null ? 0 : this.spec.nActions);
    this.numEnvs = numEnvs;
    this.rngs = this.envs.map((_, e) => (groupSize === 1 ? rng.fork(e) : rng.fork(Math.floor(e / groupSize))));
    this.obs = new Float32Array(numEnvs * this.spec.obsDim);
    this.epReturn = new Float64Array(numEnvs);
    this.epLength = new Int32Array(numEnvs);
  }

  /** The right next action of env e (its plug-in's `oracle()`); throws when the env has none. */
  oracle(e: number): number {
    const inst = this.envs[e].instance;
    if (!hasOracle(inst))
      throw new RangeError(`env '${this.spec.id}' has no oracle(): the teacher needs a sequence task (seq-reverse, seq-sort, seq-add)`);
    return inst.oracle();
  }

  /** True once `reset()` has run. */
  get isStarted(): boolean {
    return this.started;
  }

  /** Reset every env (discarding unfinished episodes); returns `this.obs`. */
  reset(): Float32Array {
    const d = this.spec.obsDim;
    for (let e = 0; e < this.numEnvs; e++) {
      this.obs.set(this.envs[e].reset(this.rngs[e]), e * d);
      this.epReturn[e] = 0;
      this.epLength[e] = 0;
    }
    this.started = true;
    return this.obs;
  }

  /**
   * Step env e with actions[e] (discrete: Int32Array of E; box: Float32Array of E x A, clipped
   * to the box here); fills `out` and updates `this.obs`. Throws if not reset, and an
   * EnvRuntimeError (check.ts) when an env returns a bad observation or reward.
   */
  step(actions: Int32Array | Float32Array, out: VectorStepOut): void {
    if (!this.started) throw new Error('VectorEnv.step called before reset()');
    const d = this.spec.obsDim;
    const box = this.box;
    if ((box === null) !== actions instanceof Int32Array)
      throw new RangeError(
        `VectorEnv.step: env ${this.spec.id} takes ${box === null ? 'an Int32Array of discrete' : 'a Float32Array of box'} actions`,
      );
    for (let e = 0; e < this.numEnvs; e++) {
      const r = this.envs[e].step(box === null ? actions[e] : clipBoxAction(box, actions as Float32Array, e, this.clipped));
      const terminated = r.terminated;
      const truncated = r.truncated && !terminated;
      out.rewards[e] = r.reward;
      out.terminated[e] = terminated ? 1 : 0;
      out.truncated[e] = truncated ? 1 : 0;
      this.epReturn[e] += r.reward;
      this.epLength[e] += 1;
      let next = r.obs;
      if (terminated || truncated) {
        if (truncated) out.finalObs.set(r.obs, e * d);
        this.doneReturns.push(this.epReturn[e]);
        this.doneLengths.push(this.epLength[e]);
        this.epReturn[e] = 0;
        this.epLength[e] = 0;
        next = this.envs[e].reset(this.rngs[e]);
      }
      this.obs.set(next, e * d);
    }
    if (out.obs !== this.obs) out.obs.set(this.obs);
  }

  /** Returns and lengths of episodes finished since the last call, in finishing order. */
  takeEpisodes(): { returns: number[]; lengths: number[] } {
    const res = { returns: this.doneReturns, lengths: this.doneLengths };
    this.doneReturns = [];
    this.doneLengths = [];
    return res;
  }
}
