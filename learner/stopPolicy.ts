/**
 * When the learner evaluates and when it stops. Stops: the step budget, the time budget, or a
 * target return that a short evaluation reached and a confirmation over finalEvalEpisodes
 * episodes of the same parameters upheld. Evaluations: every `evalEvery` versions; the final
 * evaluation reuses a confirmation of the very same parameters (same version and episodes).
 */
import type { EvalStat } from '../protocol/records.js';

export interface StopOptions {
  /** Step budget (env steps trained on). */
  steps: number;
  /** Time budget in seconds (0 = none). */
  timeSec: number;
  /** Stop once the policy's mean return reaches this (null = never). */
  targetReturn: number | null;
}

export class StopPolicy {
  /** @param t0 the clock's now() at start, ms. */
  constructor(
    private readonly o: StopOptions,
    private readonly t0: number,
  ) {}

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
