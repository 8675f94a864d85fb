/**
 * The learner's evaluation scheduler: owns the evaluator and every evaluation in progress.
 * Evaluations are due every `evalEvery` versions (stopPolicy.ts's EvalSchedule). Deterministic
 * mode waits for each result; asynchronous mode runs one at a time in the background and
 * attaches its result to the first update after it is ready. A target confirmation evaluates
 * the same parameters over finalEvalEpisodes episodes and is kept, so that the final
 * evaluation of the same version reuses it. Evaluation environment steps are counted apart
 * from training steps.
 *
 * The share cap (`evalShare` S > 0): the environment steps of the periodic evaluations made
 * while training stay within S x the training steps so far.
 * Before each due periodic evaluation the scheduler turns what is left of that budget into
 * episodes, at the mean episode length of the latest evaluation (the random baseline's before
 * the first): min(evalEpisodes, floor(left / length)). Fewer than one episode postpones the
 * evaluation to the first later update whose budget allows one. An evaluation can run longer
 * than its estimate (a policy that improved), so the account may pass the cap by one
 * evaluation's steps, which the next ones make up for. The random baseline and the final
 * evaluation are outside the cap.
 *
 * Target confirmations run finalEvalEpisodes episodes (a target is confirmed over the same
 * episodes as the final evaluation) and are bounded by a back-off instead: after one fails at
 * s training steps, the next may start from 2 s on (`mayConfirm`). So a run makes at most
 * about log2(budget / s) + 1 confirmations, and a failed one never stops the periodic
 * evaluations, nor with them the early stop (when its steps counted against the share, one
 * failed 100-episode confirmation could postpone every later evaluation past the step budget).
 * The back-off starts afresh when a run is resumed.
 *
 * Failures. An evaluation the environment is to blame for (it hung past --env-timeout:
 * EnvTimeoutError; it returned bad values: EnvRuntimeError) is the run's `fault`: the loop stops
 * on it with the run marked failed (learner/loop.ts), and a final evaluation after it is not
 * attempted (an environment that hung once would cost another timeout). Any other failure (the
 * thread died, the environment threw) is logged and the run goes on: a periodic evaluation or a
 * confirmation is simply missing, and a random baseline that failed is NaN (measured again on
 * resume).
 */
import type { EvalStat } from '../protocol/records.js';
import { EvalSchedule, type EvalOptions } from './stopPolicy.js';
import type { LoopLogger, PolicyEvaluator } from './ports.js';
import { EnvTimeoutError } from '../envs/watchdog.js';
import { EnvRuntimeError } from '../envs/check.js';

/** Whether an evaluation failed because of its environment: it hung, or returned bad values. */
export function isEnvFault(e: unknown): e is EnvTimeoutError | EnvRuntimeError {
  return e instanceof EnvTimeoutError || e instanceof EnvRuntimeError;
}

export interface EvalSchedulerOptions extends EvalOptions {
  /** Deterministic mode: every due evaluation is awaited. */
  deterministic: boolean;
  /** Periodic evaluations use at most this share of the training steps (absent or 0: no cap). */
  evalShare?: number;
}

export class EvalScheduler {
  private readonly schedule: EvalSchedule;
  /** Environment steps of every evaluation so far. */
  envSteps = 0;
  /** The latest evaluation attached to an update (or restored from a checkpoint). */
  last: EvalStat | undefined;
  /** The latest target confirmation. */
  confirmed: EvalStat | undefined;
  /** Environment steps of the periodic evaluations: the account the share cap applies to. */
  cappedSteps = 0;
  /** Training steps from which the next target confirmation may start (the back-off after a failed one). */
  confirmAfter = 0;
  /** The first evaluation the environment is to blame for (it hung, or returned bad values): its message; null while none. */
  fault: string | null = null;
  /** Periodic evaluations run with fewer episodes than evalEpisodes, or postponed, by the share cap. */
  readonly capped = { shortened: 0, postponed: 0 };
  private pending: Promise<EvalStat> | null = null;
  private done: EvalStat | undefined;
  /** A due evaluation the cap postponed: it runs at the first update whose budget allows an episode. */
  private postponed = false;
  /** Mean steps per episode of the latest evaluation that counted its steps. */
  private episodeSteps: number | null = null;

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
  async evaluate(params: Float32Array, version: number, episodes: number, capped = false): Promise<EvalStat> {
    let r: EvalStat;
    try {
      r = await this.evaluator.run(params, version, episodes);
    } catch (e) {
      if (isEnvFault(e)) this.fault ??= e.message;
      throw e;
    }
    this.envSteps += r.envSteps ?? 0;
    if (capped) this.cappedSteps += r.envSteps ?? 0;
    this.noteEpisodeSteps(r);
    return r;
  }

  /** Take the steps per episode of `r` (an evaluation, or the one a checkpoint restored) as the estimate the share cap sizes evaluations with. */
  noteEpisodeSteps(r: EvalStat | undefined): void {
    if (r?.envSteps !== undefined && r.envSteps > 0 && r.episodes > 0) this.episodeSteps = r.envSteps / r.episodes;
  }

  /**
   * Episodes of a periodic evaluation started after `trainSteps` training steps: evalEpisodes,
   * or fewer under the share cap (0: not now).
   */
  episodesAt(trainSteps: number): number {
    const share = this.o.evalShare ?? 0;
    if (!(share > 0)) return this.o.evalEpisodes;
    const left = share * trainSteps - this.cappedSteps;
    if (left <= 0) return 0;
    return Math.min(this.o.evalEpisodes, Math.floor(left / (this.episodeSteps ?? 1)));
  }

  /** The random baseline: a uniform policy (all-zero parameters), at least 10 episodes. */
  async randomReturn(paramCount: number): Promise<number> {
    try {
      return (await this.evaluate(new Float32Array(paramCount), -1, Math.max(10, this.o.evalEpisodes))).stochastic;
    } catch (e) {
      this.failedOne(-1, e);
      return NaN;
    }
  }

  /** Log a failed evaluation (the loop reads `fault` for one the environment is to blame for). */
  private failedOne(version: number, e: unknown): void {
    this.logger.error(
      { kind: 'eval-failed', version, err: String(e), envFault: isEnvFault(e) },
      isEnvFault(e) ? 'evaluation failed: the environment is at fault' : 'evaluation failed',
    );
  }

  /**
   * After the update that produced `version` (parameters `params`): start the evaluation if it
   * is due and none is running, and return the evaluation to attach to this update, if any
   * (deterministic mode: this version's; asynchronous mode: one that finished since).
   */
  async atUpdate(params: Float32Array, version: number, trainSteps: number): Promise<EvalStat | undefined> {
    let ready: EvalStat | undefined;
    if (this.done) {
      ready = this.done;
      this.done = undefined;
    }
    const episodes = (this.schedule.due(version) || this.postponed) && !this.pending ? this.episodesAt(trainSteps) : -1;
    if (episodes === 0) {
      if (!this.postponed) {
        this.capped.postponed++;
        if (this.capped.postponed === 1)
          this.logger.info(
            { kind: 'eval-capped', version, trainSteps, evalSteps: this.cappedSteps, share: this.o.evalShare },
            `evaluation postponed: periodic evaluations are capped at ${this.o.evalShare} x the training steps (--eval-share); later ones are postponed or shortened without a further line`,
          );
      }
      this.postponed = true;
    } else if (episodes > 0) {
      this.postponed = false;
      if (episodes < this.o.evalEpisodes) this.capped.shortened++;
      const p = this.evaluate(params, version, episodes, true);
      if (this.o.deterministic)
        ready = await p.catch((e: unknown) => {
          this.failedOne(version, e);
          return undefined;
        });
      else {
        this.pending = p;
        p.then(
          (r) => {
            this.done = r;
          },
          (e: unknown) => this.failedOne(version, e),
        ).finally(() => {
          this.pending = null;
        });
      }
    }
    if (ready) this.last = ready;
    return ready;
  }

  /** Whether a target confirmation may start after `trainSteps` training steps (see the back-off above). */
  mayConfirm(trainSteps: number): boolean {
    return trainSteps >= this.confirmAfter;
  }

  /**
   * Confirm a target over finalEvalEpisodes episodes of `params` (kept for the final evaluation;
   * outside the share cap). Undefined when the evaluation failed (logged). `upheld` says whether
   * the result holds the target: when it does not, the next confirmation waits until training
   * has doubled (`confirmAfter`).
   */
  async confirm(
    params: Float32Array,
    version: number,
    trainSteps: number,
    upheld: (r: EvalStat) => boolean,
  ): Promise<EvalStat | undefined> {
    try {
      this.confirmed = await this.evaluate(params, version, this.o.finalEvalEpisodes);
    } catch (e) {
      this.failedOne(version, e);
      return undefined;
    }
    if (!upheld(this.confirmed)) this.confirmAfter = Math.max(this.confirmAfter, 2 * trainSteps);
    return this.confirmed;
  }

  /** Wait for a running evaluation (its failure is already logged). */
  async settle(): Promise<void> {
    if (this.pending) await this.pending.catch(() => undefined);
  }

  /** The final evaluation of `version`: the confirmation of the very same parameters, or a new one. */
  async final(params: Float32Array, version: number): Promise<EvalStat> {
    if (this.fault !== null) throw new Error(`not attempted: an earlier evaluation failed: ${this.fault}`);
    return this.schedule.reusableFinal(this.confirmed, version) ?? (await this.evaluate(params, version, this.o.finalEvalEpisodes));
  }

  async close(): Promise<void> {
    await this.evaluator.close();
  }
}
