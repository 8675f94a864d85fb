/**
 * When the learner evaluates and when it stops. Stops: the step budget, the time budget, or a
 * target return that a short evaluation reached and a confirmation over finalEvalEpisodes
 * episodes of the same parameters upheld; and a run that cannot learn (`cannotLearn`: for
 * CANNOT_LEARN_MS no rollout was trained while at least CANNOT_LEARN_ROLLOUTS were refused or
 * dropped), which stops with the reason and counts as failed (the learner exits 1).
 * Evaluations: every `evalEvery` versions; the final evaluation reuses a confirmation of the very
 * same parameters (same version and episodes).
 */
import type { EvalStat } from '../protocol/records.js';

/** The intake totals `cannotLearn` reads (learner/intake.ts's IntakeCounts). */
export interface RefusalCounts {
  trained: number;
  rejected: number;
  dropped: number;
  rejectReasons: Record<string, number>;
  dropReasons: Record<string, number>;
}

/**
 * A run that cannot learn: this long without a trained rollout... Project choice: an honest run
 * trains its first batch within seconds of its first rollout (the default run: under 2 s on 2
 * cores), and the issue-21 probe's all-rejected run had made ~42,000 refusals by 30 s.
 */
export const CANNOT_LEARN_MS = 30_000;
/** ...while at least this many rollouts arrived and were all refused or dropped (not a learner that is merely slow or idle). */
export const CANNOT_LEARN_ROLLOUTS = 200;

export interface StopOptions {
  /** Step budget (env steps trained on). */
  steps: number;
  /** Time budget in seconds (0 = none). */
  timeSec: number;
  /** Stop once the policy's mean return reaches this (null = never). */
  targetReturn: number | null;
}

export class StopPolicy {
  /** Totals when a rollout was last trained (or at the first check), and when. */
  private mark: { at: number; trained: number; refused: number; reasons: Map<string, number> } | null = null;

  /** @param t0 the clock's now() at start, ms. */
  constructor(
    private readonly o: StopOptions,
    private readonly t0: number,
  ) {}

  /**
   * The reason to stop a run that cannot learn, or null: no rollout trained for CANNOT_LEARN_MS
   * while at least CANNOT_LEARN_ROLLOUTS arrived and were every one rejected or dropped. The
   * reason names the counts and the most frequent codes since the last trained rollout.
   */
  cannotLearn(k: RefusalCounts, now: number): string | null {
    const refused = k.rejected + k.dropped;
    if (this.mark === null || k.trained > this.mark.trained) {
      this.mark = { at: now, trained: k.trained, refused, reasons: reasonTotals(k) };
      return null;
    }
    const n = refused - this.mark.refused;
    const seconds = (now - this.mark.at) / 1000;
    if (n < CANNOT_LEARN_ROLLOUTS || now - this.mark.at < CANNOT_LEARN_MS) return null;
    const since = [...reasonTotals(k)]
      .map(([code, c]) => [code, c - (this.mark!.reasons.get(code) ?? 0)] as const)
      .filter(([, c]) => c > 0)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([code, c]) => `${code} ${c}`)
      .join(', ');
    return `cannot learn: all ${n} rollouts received in the last ${seconds.toFixed(0)} s were refused or dropped, none trained (${since}); the run stops instead of spending its budget`;
  }

  /** The budget that is used up at `envSteps` and `now` (ms), or null. */
  budgetReached(envSteps: number, now: number): string | null {
    if (envSteps >= this.o.steps) return `step budget ${this.o.steps} reached`;
    if (this.o.timeSec > 0 && (now - this.t0) / 1000 >= this.o.timeSec) return `time budget ${this.o.timeSec} s reached`;
    return null;
  }

  /** Whether evaluation `ev` reached the target, so that it must be confirmed. */
  needsConfirmation(ev: EvalStat | undefined): boolean {
    return ev !== undefined && this.o.targetReturn !== null && ev.stochastic >= this.o.targetReturn;
  }

  /** The stop reason when the confirmation `check` upheld the target, else null. */
  confirmed(check: EvalStat, envSteps: number): string | null {
    const target = this.o.targetReturn;
    if (target === null || check.stochastic < target) return null;
    return `the current policy's mean return over ${check.episodes} episodes, ${check.stochastic.toFixed(1)}, reached the target ${target} at ${envSteps} steps`;
  }
}

/** Rejection and drop totals by code ('rejected NOT_FINITE', 'dropped stale'). */
function reasonTotals(k: RefusalCounts): Map<string, number> {
  const m = new Map<string, number>();
  for (const [code, c] of Object.entries(k.rejectReasons)) m.set(`rejected ${code}`, c);
  for (const [code, c] of Object.entries(k.dropReasons)) m.set(`dropped ${code}`, c);
  return m;
}

export interface EvalOptions {
  /** Evaluate every this many versions (0 = never during training). */
  evalEvery: number;
  evalEpisodes: number;
  finalEvalEpisodes: number;
}

export class EvalSchedule {
  constructor(readonly o: EvalOptions) {}

  /** Whether version `v` is evaluated. */
  due(v: number): boolean {
    return this.o.evalEvery > 0 && v % this.o.evalEvery === 0;
  }

  /**
   * The final evaluation if `confirmed` already is one: an evaluation is a function of
   * (parameters, version, episodes, seed), so a confirmation of version `v` over
   * finalEvalEpisodes episodes is the final evaluation of `v`.
   */
  reusableFinal(confirmed: EvalStat | undefined, v: number): EvalStat | undefined {
    return confirmed?.version === v && confirmed.episodes === this.o.finalEvalEpisodes ? confirmed : undefined;
  }
}
