/**
 * Verify, don't trust: the learner recomputes an admitted rollout's behaviour log-probabilities
 * log mu(a|s) from the parameters of the version the rollout claims to have acted with, and
 * refuses the rollout (BAD_LOGPROB) when a claimed value disagrees beyond `LOGMU_TOLERANCE`.
 *
 * Why it can: the actor computes log mu from the policy's outputs of model/policyForward.ts
 * (float64 arithmetic on the dense kernel, outputs rounded to float32; log-softmax or Gaussian
 * log-density in float64, stored as float32), and each row's result does not depend on the
 * other rows, so the learner's recomputation of any subset of rows with the same code is
 * bit-identical for an honest actor. The tolerance only absorbs a different kernel's round-off
 * (an actor on the plain-JS kernel where WebAssembly SIMD does not load: tanh within a few
 * ulp); a forged log mu (e.g. -3e38, or the right value for a flipped action) is off by orders
 * of magnitude more.
 *
 * Teacher rows (sequence tasks, source = 1): the teacher is a deterministic noisy oracle whose
 * log mu takes one of two values, log(1 - eps + eps/V) (the right token) or log(eps/V); the
 * learner checks the claim is one of them. A run without a teacher refuses teacher rows.
 *
 * Versions: the verifier keeps its own copies (float32, as published; widened to float64 when loaded into the forward pass) of the last `capacity` versions; a
 * rollout whose behaviour version is no longer held cannot be verified and is dropped as stale
 * (never trained unverified).
 */
import type { RolloutMsg } from '../protocol/messages.js';
import { reason } from '../protocol/errors.js';
import { PolicyForward } from '../model/policyForward.js';
import { gaussianLogProb, logSumExp } from '../model/distributions.js';
import { logStdOffset } from '../model/params.js';
import { headOf, type ModelSpec } from '../model/spec.js';
import { Rng } from '../model/rng.js';
import type { Refusal, DropDecision } from './admission.js';

/**
 * Largest accepted |claimed - recomputed| log mu, nats, plus LOGMU_RELATIVE x |recomputed|.
 * An honest actor's values are bit-identical (same code); float32 storage of a log-probability
 * of magnitude m rounds by at most m x 2^-24, far below these.
 */
export const LOGMU_TOLERANCE = 1e-4;
export const LOGMU_RELATIVE = 1e-5;
/**
 * Default share of rows recomputed per rollout: all of them. The check costs one policy
 * forward pass per row checked (bench/verify.ts measures it: see the README figures), less
 * than the learner's own forward + backward per trained row.
 */
export const DEFAULT_VERIFY_SHARE = 1;
/** Versions kept for verification at least (cheap: one float32 copy of the parameters each). */
export const MIN_VERIFY_VERSIONS = 64;

export interface ClaimVerifierOptions {
  spec: ModelSpec;
  /** Share of each rollout's rows recomputed, in (0, 1]; rows drawn at random (the actor cannot know which). */
  share?: number;
  /** Versions held for verification (at least MIN_VERIFY_VERSIONS). */
  capacity?: number;
  /** The teacher's eps when the run has a teacher (--behaviour teacher | mix:P), else null: teacher rows are refused. */
  teacherEps?: number | null;
  seed?: number;
}

/** The outcome of a check: null (verified), a refusal, or a drop (behaviour version not held). */
export type ClaimVerdict = Refusal | DropDecision | null;

export class ClaimVerifier {
  private readonly versions = new Map<number, Float32Array>();
  private newest = -1;
  private readonly share: number;
  private readonly capacity: number;
  private readonly rng: Rng;
  private readonly gaussian: boolean;
  private readonly so: number;
  private logits = new Float32Array(0);
  /** The policy's forward pass, the same code as the actor's (model/policyForward.ts). */
  private readonly fwd: PolicyForward;
  /** The version whose parameters `fwd` holds. */
  private fwdVersion = -1;
  private rowIdx = new Int32Array(0);
  private actRows = new Float32Array(0);
  /** Rows recomputed so far, and rollouts refused. */
  rowsChecked = 0;
  refused = 0;

  constructor(private readonly o: ClaimVerifierOptions) {
    const share = o.share ?? DEFAULT_VERIFY_SHARE;
    if (!(share > 0 && share <= 1)) throw new RangeError(`verify share ${share} must be in (0, 1]`);
    this.share = share;
    this.capacity = Math.max(MIN_VERIFY_VERSIONS, o.capacity ?? 0);
    this.rng = new Rng(o.seed ?? 0x5eed);
    this.gaussian = headOf(o.spec) === 'gaussian';
    this.so = this.gaussian ? logStdOffset(o.spec) : 0;
    this.fwd = new PolicyForward(o.spec, 128);
  }

  /** Hold `params` as version `version` (called at every publish); the oldest beyond capacity are forgotten. */
  note(version: number, params: Float32Array): void {
    this.versions.set(version, params.slice());
    if (version === this.fwdVersion) this.fwdVersion = -1;
    if (version > this.newest) this.newest = version;
    for (const v of this.versions.keys()) if (v <= this.newest - this.capacity) this.versions.delete(v);
  }

  holds(version: number): boolean {
    return this.versions.has(version);
  }

  /** Verify `m`'s claimed log mu (run after the admission checks: shapes valid, values finite). */
  check(m: RolloutMsg): ClaimVerdict {
    const P = this.versions.get(m.behaviourVersion);
    if (!P)
      return {
        drop: 'stale',
        detail: `stale: behaviour version ${m.behaviourVersion} is no longer held for verification (oldest held ${this.oldest()})`,
      };
    const { spec } = this.o;
    const n = m.T * m.E,
      A = spec.nActions;
    // Rows to check: all, or each with probability `share` (at least one).
    let k = 0;
    if (this.rowIdx.length < n) this.rowIdx = new Int32Array(n);
    for (let i = 0; i < n; i++) if (this.share >= 1 || this.rng.uniform() < this.share) this.rowIdx[k++] = i;
    if (k === 0) this.rowIdx[k++] = this.rng.int(n);
    const src = m.source;
    // Teacher rows first (no forward pass).
    let policyRows = 0;
    for (let j = 0; j < k; j++) {
      const i = this.rowIdx[j];
      const e = i % m.E;
      if (src !== undefined && src[e] === 1) {
        const bad = this.teacherRow(m, i);
        if (bad) return this.refuse(bad);
      } else this.rowIdx[policyRows++] = i;
    }
    if (policyRows === 0) return null;
    if (this.logits.length < policyRows * A) this.logits = new Float32Array(policyRows * A);
    const logits = this.logits.subarray(0, policyRows * A);
    if (this.fwdVersion !== m.behaviourVersion) {
      this.fwd.load(P);
      this.fwdVersion = m.behaviourVersion;
    }
    this.fwd.logits(m.obs, policyRows, logits, policyRows < n ? this.rowIdx : null);
    let acts: Float32Array | null = null;
    if (this.gaussian) {
      if (this.actRows.length < policyRows * A) this.actRows = new Float32Array(policyRows * A);
      for (let j = 0; j < policyRows; j++) this.actRows.set(m.boxActions!.subarray(this.rowIdx[j] * A, (this.rowIdx[j] + 1) * A), j * A);
      acts = this.actRows;
    }
    this.rowsChecked += policyRows;
    for (let j = 0; j < policyRows; j++) {
      const i = this.rowIdx[j];
      const o = j * A;
      const want = this.gaussian ? gaussianLogProb(acts!, logits, o, P, this.so, A) : logits[o + m.actions[i]] - logSumExp(logits, o, A);
      const got = m.logmu[i];
      if (!(Math.abs(got - want) <= LOGMU_TOLERANCE + LOGMU_RELATIVE * Math.abs(want)))
        return this.refuse(
          `rollout.logmu[${i}] is ${got}, the behaviour version ${m.behaviourVersion} gives ${want} for action ${this.gaussian ? 'box' : m.actions[i]} (tolerance ${LOGMU_TOLERANCE} + ${LOGMU_RELATIVE} x |log mu|)`,
        );
    }
    return null;
  }

  private teacherRow(m: RolloutMsg, i: number): string | null {
    const eps = this.o.teacherEps;
    if (eps === null || eps === undefined) return `rollout.source marks env ${i % m.E} as the teacher's, this run has no teacher`;
    const V = this.o.spec.nActions;
    const right = Math.fround(Math.log(1 - eps + eps / V)),
      wrong = Math.fround(Math.log(eps / V));
    const got = m.logmu[i];
    const near = (x: number) => Math.abs(got - x) <= LOGMU_TOLERANCE + LOGMU_RELATIVE * Math.abs(x);
    return near(right) || near(wrong)
      ? null
      : `rollout.logmu[${i}] is ${got}, a teacher row's is ${right} (right token) or ${wrong} (teacher eps ${eps})`;
  }

  private refuse(detail: string): Refusal {
    this.refused++;
    return { code: 'BAD_LOGPROB', reason: reason('BAD_LOGPROB', detail) };
  }

  private oldest(): number {
    let o = -1;
    for (const v of this.versions.keys()) if (o < 0 || v < o) o = v;
    return o;
  }
}
