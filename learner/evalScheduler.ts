/**
 * The learner's evaluation scheduler: owns the evaluator and every evaluation in progress.
 * Evaluations are due every `evalEvery` versions (stopPolicy.ts's EvalSchedule). Deterministic
 * mode waits for each result; asynchronous mode runs one at a time in the background and
 * attaches its result to the first update after it is ready. A target confirmation evaluates
 * the same parameters over finalEvalEpisodes episodes and is kept, so that the final
 * evaluation of the same version reuses it. Evaluation environment steps are counted apart
 * from training steps.
 */
import type { EvalStat } from '../protocol/records.js';
import { EvalSchedule, type EvalOptions } from './stopPolicy.js';
import type { LoopLogger, PolicyEvaluator } from './ports.js';

export interface EvalSchedulerOptions extends EvalOptions {
  /** Deterministic mode: every due evaluation is awaited. */
  deterministic: boolean;
}

export class EvalScheduler {
  private readonly schedule: EvalSchedule;
  /** Environment steps of every evaluation so far. */
  envSteps = 0;
  /** The latest evaluation attached to an update (or restored from a checkpoint). */
  last: EvalStat | undefined;
  /** The latest target confirmation. */
  confirmed: EvalStat | undefined;
  private pending: Promise<EvalStat> | null = null;
  private done: EvalStat | undefined;

  constructor(
    private readonly evaluator: PolicyEvaluator,
    private readonly o: EvalSchedulerOptions,
    private readonly logger: LoopLogger,
  ) {
    this.schedule = new EvalSchedule(o);
  }

  /** Whether an asynchronous evaluation is still running. */
  get running(): boolean {
    return this.pending !== null;
  }

  /** Run the evaluator now, counting its environment steps. */
  async evaluate(params: Float32Array, version: number, episodes: number): Promise<EvalStat> {
    const r = await this.evaluator.run(params, version, episodes);
    this.envSteps += r.envSteps ?? 0;
    return r;
  }

  /** The random baseline: a uniform policy (all-zero parameters), at least 10 episodes. */
  async randomReturn(paramCount: number): Promise<number> {
    return (await this.evaluate(new Float32Array(paramCount), -1, Math.max(10, this.o.evalEpisodes))).stochastic;
  }

  /**
   * After the update that produced `version` (parameters `params`): start the evaluation if it
   * is due and none is running, and return the evaluation to attach to this update, if any
   * (deterministic mode: this version's; asynchronous mode: one that finished since).
   */
  async atUpdate(params: Float32Array, version: number): Promise<EvalStat | undefined> {
    let ready: EvalStat | undefined;
    if (this.done) {
      ready = this.done;
      this.done = undefined;
    }
    if (this.schedule.due(version) && !this.pending) {
      const p = this.evaluate(params, version, this.o.evalEpisodes);
      if (this.o.deterministic) ready = await p;
      else {
        this.pending = p;
        p.then(
          (r) => {
            this.done = r;
          },
          (e: unknown) => this.logger.error({ kind: 'eval-failed', err: String(e) }, 'evaluation failed'),
        ).finally(() => {
          this.pending = null;
        });
      }
    }
    if (ready) this.last = ready;
    return ready;
  }

  /** Confirm a target over finalEvalEpisodes episodes of `params` (kept for the final evaluation). */
  async confirm(params: Float32Array, version: number): Promise<EvalStat> {
    this.confirmed = await this.evaluate(params, version, this.o.finalEvalEpisodes);
    return this.confirmed;
  }

  /** Wait for a running evaluation (its failure is already logged). */
  async settle(): Promise<void> {
    if (this.pending) await this.pending.catch(() => undefined);
  }

  /** The final evaluation of `version`: the confirmation of the very same parameters, or a new one. */
  async final(params: Float32Array, version: number): Promise<EvalStat> {
    return this.schedule.reusableFinal(this.confirmed, version) ?? (await this.evaluate(params, version, this.o.finalEvalEpisodes));
  }

  async close(): Promise<void> {
    await this.evaluator.close();
  }
}
