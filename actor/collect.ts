/**
 * The actor's segment collector: E envs stepped in lockstep for T steps with one batched JS
 * forward pass per step, each action stamped with log mu(a|s) (discrete envs: the categorical
 * policy; box envs: the diagonal Gaussian policy, actions kept unclipped in the segment and
 * clipped at the env). Envs persist across calls, so
 * a segment continues where the previous one stopped (IMPALA-style unrolls).
 */
import type { RolloutMsg } from '../protocol/messages.js';
import { headOf, type ModelSpec } from '../model/spec.js';
import { PolicyForward } from '../model/policyForward.js';
import { distributionOf, type ActionDistribution } from '../model/distributions.js';
import { paramCount } from '../model/params.js';
import { Rng } from '../model/rng.js';
import { VectorEnv, type VectorStepOut } from '../envs/vector.js';

/** The data fields of a RolloutMsg (no header fields), time-major, as `collect` returns them. */
export type Segment = Pick<
  RolloutMsg,
  | 'obs'
  | 'lastObs'
  | 'actions'
  | 'boxActions'
  | 'rewards'
  | 'terminated'
  | 'truncated'
  | 'finalObs'
  | 'logmu'
  | 'episodeReturns'
  | 'episodeLengths'
  | 'T'
  | 'E'
  | 'obsDim'
> & { source: Uint8Array };

/**
 * Who writes the responses (sequence tasks): each group of `groupSize` consecutive envs shares
 * a prompt; the first round(teacherShare x groupSize) envs of every group follow the teacher,
 * a noisy oracle that writes the right token with probability 1 - teacherEps and a uniform
 * token otherwise (log mu exact), the rest the behaviour parameters.
 */
export interface BehaviourOptions {
  groupSize: number;
  teacherShare: number;
  teacherEps: number;
}

/** All envs independent, all from the policy. */
export const POLICY_ONLY: Readonly<BehaviourOptions> = Object.freeze({ groupSize: 1, teacherShare: 0, teacherEps: 0.1 });

/** The per-env source (0 policy, 1 teacher) of E envs under `b`. */
export function sourcesOf(E: number, b: BehaviourOptions): Uint8Array {
  const out = new Uint8Array(E);
  const perGroup = Math.round(b.teacherShare * b.groupSize);
  for (let e = 0; e < E; e++) out[e] = e % b.groupSize < perGroup ? 1 : 0;
  return out;
}

export interface SegmentCollectorOptions {
  envId: string;
  numEnvs: number;
  /** Seeds env resets (substream 0) and action sampling (substream 1). */
  seed: number;
  modelSpec: ModelSpec;
  /** Groups and teacher (default: independent envs, all policy). */
  behaviour?: BehaviourOptions;
}

/** Collects T-step segments from E persistent envs. Not thread-safe; one per worker. */
export class SegmentCollector {
  readonly vec: VectorEnv;
  private readonly spec: ModelSpec;
  private readonly actionRng: Rng;
  private readonly nParams: number;
  private readonly logits: Float32Array;
  private readonly policy: PolicyForward;
  private readonly stepOut: VectorStepOut;
  private readonly finalScratch: Float32Array;
  private readonly source: Uint8Array;
  private readonly teacherRng: Rng;
  private readonly teacherEps: number;
  private readonly head: ActionDistribution;

  /** Throws a RangeError when the env id is unknown or the model spec does not fit the env. */
  constructor(opts: SegmentCollectorOptions) {
    const root = new Rng(opts.seed);
    const b = opts.behaviour ?? POLICY_ONLY;
    this.vec = new VectorEnv(opts.envId, opts.numEnvs, root.fork(0), b.groupSize);
    this.actionRng = root.fork(1);
    this.teacherRng = root.fork(2);
    this.teacherEps = b.teacherEps;
    if (!(b.teacherEps >= 0 && b.teacherEps <= 1)) throw new RangeError(`teacherEps ${b.teacherEps} must be in [0, 1]`);
    if (!(b.teacherShare >= 0 && b.teacherShare <= 1)) throw new RangeError(`teacherShare ${b.teacherShare} must be in [0, 1]`);
    this.source = sourcesOf(opts.numEnvs, b);
    if (this.source.includes(1)) this.vec.oracle(0); // throws now when the env has no oracle
    this.spec = opts.modelSpec;
    const es = this.vec.spec;
    if (
      this.spec.obsDim !== es.obsDim ||
      this.spec.nActions !== es.nActions ||
      distributionOf(this.spec).box !== (es.actionKind === 'box')
    ) {
      throw new RangeError(
        `model spec (obsDim ${this.spec.obsDim}, nActions ${this.spec.nActions}, head ${headOf(this.spec)}) does not fit ${es.id} (obsDim ${es.obsDim}, ${es.actionKind === 'box' ? `box actions of dimension ${es.nActions}` : `${es.nActions} discrete actions`})`,
      );
    }
    this.head = distributionOf(this.spec);
    this.nParams = paramCount(this.spec);
    const E = opts.numEnvs;
    this.logits = new Float32Array(E * es.nActions);
    this.policy = new PolicyForward(this.spec, E);
    this.finalScratch = new Float32Array(E * es.obsDim);
    this.stepOut = {
      obs: this.vec.obs,
      rewards: new Float32Array(E),
      terminated: new Uint8Array(E),
      truncated: new Uint8Array(E),
      finalObs: this.finalScratch,
    };
  }

  /**
   * Act T steps in every env with `params` (the behaviour policy mu) and return the segment in
   * fresh arrays the caller owns. Throws a RangeError when params has the wrong length.
   */
  collect(params: Float32Array, T: number): Segment {
    if (params.length !== this.nParams) throw new RangeError(`params has ${params.length} floats, model spec needs ${this.nParams}`);
    if (!Number.isInteger(T) || T < 1) throw new RangeError(`T must be a positive integer, got ${T}`);
    if (!this.vec.isStarted) this.vec.reset();
    const E = this.vec.numEnvs;
    const d = this.spec.obsDim;
    const obs = new Float32Array(T * E * d);
    const head = this.head;
    const aw = head.actionDim;
    const { actions, boxActions } = head.newActions(T * E);
    const rewards = new Float32Array(T * E);
    const terminated = new Uint8Array(T * E);
    const truncated = new Uint8Array(T * E);
    const logmu = new Float32Array(T * E);
    const finals: Float32Array[] = [];
    // The parameters loaded into the policy's forward pass once per segment; the Gaussian head
    // reads its log standard deviations from them (float32 values, read as numbers).
    this.policy.load(params);
    const out = this.stepOut;
    for (let t = 0; t < T; t++) {
      const o = t * E;
      obs.set(this.vec.obs, o * d);
      this.policy.logits(this.vec.obs, E, this.logits);
      const act = (boxActions ?? actions).subarray(o * aw, (o + E) * aw);
      head.sample(this.logits, E, params, this.actionRng, act, logmu.subarray(o, o + E));
      if (boxActions === undefined) this.teacherActs(act as Int32Array, logmu.subarray(o, o + E));
      out.rewards = rewards.subarray(o, o + E);
      out.terminated = terminated.subarray(o, o + E);
      out.truncated = truncated.subarray(o, o + E);
      this.vec.step(act, out);
      for (let e = 0; e < E; e++) if (out.truncated[e] === 1) finals.push(this.finalScratch.slice(e * d, (e + 1) * d));
    }
    const finalObs = new Float32Array(finals.length * d);
    finals.forEach((f, i) => finalObs.set(f, i * d));
    const eps = this.vec.takeEpisodes();
    return {
      T,
      E,
      obsDim: d,
      obs,
      lastObs: Float32Array.from(this.vec.obs),
      actions,
      ...(boxActions === undefined ? {} : { boxActions }),
      rewards,
      terminated,
      truncated,
      finalObs,
      logmu,
      episodeReturns: Float32Array.from(eps.returns),
      episodeLengths: Int32Array.from(eps.lengths),
      source: Uint8Array.from(this.source),
    };
  }

  /**
   * Overwrite the teacher envs' actions: the oracle's token with probability 1 - eps, else a
   * uniform token; log mu = log((1 - eps) + eps / V) for the right token, log(eps / V) otherwise.
   */
  private teacherActs(act: Int32Array, logmu: Float32Array): void {
    const V = this.spec.nActions;
    const eps = this.teacherEps;
    for (let e = 0; e < act.length; e++) {
      if (this.source[e] !== 1) continue;
      const right = this.vec.oracle(e);
      const a = this.teacherRng.uniform() < eps ? this.teacherRng.int(V) : right;
      act[e] = a;
      logmu[e] = Math.log(a === right ? 1 - eps + eps / V : eps / V);
    }
  }
}
