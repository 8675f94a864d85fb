/**
 * The learner's training loop, with everything outside it injected (ports.ts): the transport,
 * the clock, the evaluator, the parameter publisher, the logger and the checkpoint store.
 * learner/server.ts wires the real ZeroMQ socket, Date.now and the worker-thread evaluator;
 * tests wire fakes and drive it in-process.
 *
 * Three parts, one job each:
 * - the control plane (control.ts): dispatch, refusals, acks, admission and intake, Stop/drain;
 *   it hands this loop an async iterator of complete batches;
 * - this loop: per batch, Learner.step -> version + 1 -> publish the parameters (kept; each
 *   actor of the batch gets them with its ack, publisher.ts) -> ack the batch as trained (an
 *   actor's credit returns only now) -> evaluation -> the update record
 *   (records.ts) -> checkpoint cadence -> stop checks (stopPolicy.ts);
 * - the evaluation scheduler (evalScheduler.ts): pending and confirming evaluations.
 * Every message received is accounted for exactly once by the intake: trained, dropped (with a
 * reason) or rejected (with the same code that is answered to the actor).
 */
import type { EvalStat, SummaryRecord, UpdateRecord } from '../protocol/records.js';
import type { Clock } from '../protocol/clock.js';
import type { ModelSpec } from '../model/spec.js';
import type { UpdateStats } from './learner.js';
import type { LearnerServerConfig } from './config.js';
import type { Intake, QueuedRollout } from './intake.js';
import type { Admission } from './admission.js';
import { StopPolicy } from './stopPolicy.js';
import { ReturnWindow, stepsPerSecond, summaryFields, summaryRecord, updateFields, updateRecord } from './records.js';
import type { Publisher } from './publisher.js';
import type { LoopState } from './runState.js';
import { ControlPlane } from './control.js';
import type { ClaimVerdict } from './verify.js';
import type { RolloutMsg } from '../protocol/messages.js';
import { EvalScheduler } from './evalScheduler.js';
import type { LoopCheckpointer, LoopLogger, LoopResume, LoopTransport, PolicyEvaluator, TrainableLearner } from './ports.js';

export type { LoopCheckpointer, LoopLogger, LoopResume, LoopTransport, PolicyEvaluator, TrainableLearner } from './ports.js';
export { IDLE_POLL_MS } from './control.js';

export interface TrainingLoopOptions {
  cfg: LearnerServerConfig;
  spec: ModelSpec;
  modelHash: number;
  learner: TrainableLearner;
  transport: LoopTransport;
  clock: Clock;
  evaluator: PolicyEvaluator;
  publisher: Publisher;
  logger: LoopLogger;
  /** Tensor backend in use, for the summary record. */
  backend: string;
  /** Where actors connect, for the start record. */
  endpoint: string;
  onUpdate?: (r: UpdateRecord) => void;
  onStopping?: (reason: string) => void;
  /** Save checkpoints every `every` updates or `seconds` seconds and when the loop stops (learner/server.ts wires the store). */
  checkpointer?: LoopCheckpointer;
  /** Continue a run from a checkpoint: the learner is already restored, the loop restores its own part. */
  resume?: LoopResume;
  /** Checks an admitted rollout's claims (learner/verify.ts: log mu recomputed from its behaviour version). */
  verifier?: { check(m: RolloutMsg): ClaimVerdict };
}

export class TrainingLoop {
  readonly control: ControlPlane;
  readonly evals: EvalScheduler;
  private readonly stopPolicy: StopPolicy;
  private readonly returns = new ReturnWindow(100);
  private readonly t0: number;
  private sinceCheckpoint = 0;
  /** Clock time of the last checkpoint, ms. */
  private lastCheckpointAt = 0;
  private stopping = false;
  private stopReason = '';
  /** Stopped because it could not learn (StopPolicy.cannotLearn). */
  private failed = false;
  /** The back-off (EvalScheduler.confirmAfter) last reported as making a confirmation wait: one line per back-off. */
  private confirmWaitLogged = -1;
  private envSteps = 0;
  private randomReturn = NaN;

  constructor(private readonly o: TrainingLoopOptions) {
    const c = o.cfg;
    this.control = new ControlPlane({
      cfg: c,
      modelHash: o.modelHash,
      transport: o.transport,
      clock: o.clock,
      publisher: o.publisher,
      logger: o.logger,
      version: () => o.learner.version,
      verifier: o.verifier,
    });
    this.evals = new EvalScheduler(o.evaluator, c, o.logger);
    this.t0 = o.clock.now() - (o.resume?.state.elapsedMs ?? 0);
    this.stopPolicy = new StopPolicy(c, this.t0);
    if (o.resume) this.restore(o.resume.state);
  }

  /** The control plane's intake (every rollout's account) and admission (registered actors). */
  get intake(): Intake {
    return this.control.intake;
  }

  get admission(): Admission {
    return this.control.admission;
  }

  /** The control plane's report of a batch that cannot fill (control.ts STALL_WARN_MS), while it lasts; else null. */
  get stalled(): string | null {
    return this.control.stalled;
  }

  /** Valid control messages (hellos answered, heartbeats, actor stats). */
  get controlAccepted(): number {
    return this.control.controlAccepted;
  }

  /** Carry on the totals of a checkpoint; rollouts queued at the checkpoint were lost with it ('restart'). */
  private restore(s: LoopState): void {
    const k = structuredClone(s.counts);
    if (k.pending > 0) {
      k.dropped += k.pending;
      k.dropReasons.restart = (k.dropReasons.restart ?? 0) + k.pending;
      k.pending = 0;
    }
    Object.assign(this.intake.counts, k);
    this.intake.resumed();
    this.returns.restore(s.returns);
    this.envSteps = s.envSteps;
    this.randomReturn = typeof s.randomReturn === 'number' ? s.randomReturn : NaN; // null: crashed before measuring it
    this.evals.last = s.lastEval ?? undefined;
    // Its steps per episode size the first capped evaluation of this session (not 1 step an episode).
    this.evals.noteEpisodeSteps(this.evals.last);
    // The evaluation steps already spent: the --eval-share cap holds over every session of the run.
    this.evals.envSteps = s.evalEnvSteps ?? 0;
    this.evals.cappedSteps = s.evalCappedSteps ?? 0;
  }

  /** The loop's part of a checkpoint, now. */
  state(): LoopState {
    return {
      envSteps: this.envSteps,
      elapsedMs: this.o.clock.now() - this.t0,
      counts: structuredClone(this.intake.counts),
      returns: this.returns.snapshot(),
      randomReturn: this.randomReturn,
      lastEval: this.evals.last ?? null,
      evalEnvSteps: this.evals.envSteps,
      evalCappedSteps: this.evals.cappedSteps,
    };
  }

  /**
   * Where the run stands now, for status lines: the learner's version, the training and
   * evaluation environment steps and the latest evaluation. A resumed run gives the restored
   * ones from the start, before its first update.
   */
  progress(): { version: number; envSteps: number; evalEnvSteps: number; lastEval: EvalStat | undefined } {
    return { version: this.o.learner.version, envSteps: this.envSteps, evalEnvSteps: this.evals.envSteps, lastEval: this.evals.last };
  }

  /** Write a checkpoint (logged); a failure is logged and training goes on. */
  private checkpoint(final: boolean): void {
    const cp = this.o.checkpointer;
    if (!cp) return;
    this.sinceCheckpoint = 0;
    this.lastCheckpointAt = this.o.clock.now();
    const v = this.o.learner.version;
    const t = performance.now();
    try {
      const { file, bytes } = cp.save(this.state(), final);
      this.o.logger.info({ kind: 'checkpoint', version: v, envSteps: this.envSteps, final, file, bytes, writeMs: performance.now() - t });
    } catch (e) {
      this.o.logger.error(
        { kind: 'checkpoint-failed', version: v, err: String(e) },
        'checkpoint not written: training goes on; the previous checkpoint stays the resume point',
      );
    }
  }

  /** After an update: a checkpoint is due every `every` updates or every `seconds` seconds, whichever comes first. */
  private checkpointDue(cp: LoopCheckpointer): boolean {
    ++this.sinceCheckpoint;
    if (cp.every > 0 && this.sinceCheckpoint >= cp.every) return true;
    return (cp.seconds ?? 0) > 0 && this.o.clock.now() - this.lastCheckpointAt >= cp.seconds! * 1000;
  }

  /** Ask the loop to stop after the current update (budget, target, signal). Idempotent. */
  stop(reason: string): void {
    if (!this.stopping) {
      this.stopping = true;
      this.stopReason = reason;
      this.o.onStopping?.(reason);
    }
    this.control.stop(reason);
  }

  /** Train until a stop condition; returns the summary record (also logged). */
  async run(): Promise<SummaryRecord> {
    const { cfg: c, learner, logger: log } = this.o;
    this.o.publisher.publish(learner.version, learner.paramsArray());
    this.control.start();
    const r = this.o.resume;
    if (r)
      log.info(
        {
          kind: 'resume',
          checkpoint: r.file,
          fromVersion: r.fromVersion,
          version: learner.version,
          envSteps: this.envSteps,
          evalEnvSteps: this.evals.envSteps,
          evalCappedSteps: this.evals.cappedSteps,
          elapsedSeconds: (this.o.clock.now() - this.t0) / 1000,
        },
        'resumed from a checkpoint',
      );
    if (r && r.state.evalCappedSteps === undefined)
      log.warn(
        { kind: 'eval-steps-unknown', checkpoint: r.file },
        'the checkpoint predates the evaluation step counts: evaluation steps (and the --eval-share account) count from 0 in this session',
      );
    else this.checkpoint(false); // version 0: from now on a crash leaves something to resume from
    // A uniform policy (all-zero parameters) is the random baseline for the collapse flag.
    if (!Number.isFinite(this.randomReturn)) this.randomReturn = await this.evals.randomReturn(learner.paramsArray().length);
    log.info({ kind: 'start', endpoint: this.o.endpoint, modelHash: this.o.modelHash, randomReturn: this.randomReturn }, 'learner ready');
    this.checkBudgets(); // a resumed run may have no budget left
    let lastT = this.o.clock.now(),
      lastSteps = this.envSteps;
    const batches = this.control.batches(() => this.checkBudgets());
    while (!this.stopping) {
      const tw = performance.now();
      const next = await batches.next();
      if (next.done) break;
      const batch = next.value;
      const waitMs = performance.now() - tw;
      const tt = this.o.clock.now();
      const st = await this.train(batch);
      // The learner's own update is not an actor's silence (admission.ts).
      this.control.admission.excuse(this.o.clock.now() - tt, this.o.clock.now());
      // --learner-delay-ms (stress tests): a slower learner; the actors' credit returns only after it.
      if ((c.learnerDelayMs ?? 0) > 0) await this.o.clock.sleep(c.learnerDelayMs!);
      this.control.expireSilent();
      const tp = performance.now();
      const params = learner.paramsArray();
      // The new version goes to each actor of the batch with its ack (and to any other actor with
      // the answer to its next rollout): parameter traffic follows the rollout rate (publisher.ts).
      this.o.publisher.publish(learner.version, params);
      this.control.acknowledge(batch, learner.version, st.nonFiniteSkips === 0);
      const publishMs = performance.now() - tp;
      const ev = await this.evals.atUpdate(params, learner.version, this.envSteps);
      const now = this.o.clock.now();
      const fps = stepsPerSecond(this.envSteps - lastSteps, now - lastT);
      lastT = now;
      lastSteps = this.envSteps;
      const rec = updateRecord({
        time: now,
        runId: c.runId,
        backend: this.o.backend,
        version: learner.version,
        envSteps: this.envSteps,
        method: c.objective.method,
        stats: st,
        returns: this.returns,
        eval: ev,
        lastEval: this.evals.last,
        randomReturn: this.randomReturn,
        collapseEntropy: c.collapseEntropy,
        fps,
        queueDepth: this.intake.depth,
        counts: this.intake.counts,
        evalEnvSteps: this.evals.envSteps,
        timeMs: { waitMs, ...st.times, publishMs },
      });
      log.info(updateFields(rec));
      this.o.onUpdate?.(rec);
      const cp = this.o.checkpointer;
      if (cp && this.checkpointDue(cp)) this.checkpoint(false);
      this.checkBudgets();
      if (!this.stopping && this.stopPolicy.needsConfirmation(ev)) {
        if (this.evals.mayConfirm(this.envSteps)) await this.confirmTarget(params);
        else if (this.confirmWaitLogged !== this.evals.confirmAfter) {
          this.confirmWaitLogged = this.evals.confirmAfter;
          log.info(
            { kind: 'target-confirm-waits', version: learner.version, envSteps: this.envSteps, confirmAfter: this.evals.confirmAfter },
            `an evaluation reached the target again; after a failed confirmation the next waits until ${this.evals.confirmAfter} training steps`,
          );
        }
      }
    }
    await batches.return();
    return this.finish();
  }

  private async train(batch: QueuedRollout[]): Promise<UpdateStats> {
    const learner = this.o.learner;
    const version = learner.version;
    const st = await learner.update(
      batch.map((q) => ({ msg: q.msg, lag: version - q.msg.behaviourVersion })),
      this.envSteps,
    );
    if (st.nonFiniteSkips > 0) {
      // Not trained: its rollouts are counted as dropped with that reason (the finite steps of the batch, if any, still moved the parameters).
      this.o.logger.error(
        { kind: 'non-finite-gradient', version, skipped: st.nonFiniteSkips, rollouts: batch.length },
        'gradient with NaN or Infinity: step skipped; the batch is counted as dropped (non-finite-gradient), not trained',
      );
      this.intake.untrained(batch.length, 'non-finite-gradient');
    } else this.intake.trained(batch.length);
    this.envSteps += st.samples;
    for (const q of batch) for (const r of q.msg.episodeReturns) this.returns.note(r);
    return st;
  }

  private checkBudgets(): void {
    const now = this.o.clock.now();
    const why = this.stopPolicy.budgetReached(this.envSteps, now);
    if (why) this.stop(why);
    const stuck = this.stopping ? null : this.stopPolicy.cannotLearn(this.intake.counts, now);
    if (stuck) {
      this.failed = true;
      this.o.logger.error({ kind: 'cannot-learn', reason: stuck }, stuck);
      this.stop(stuck);
    }
    // An evaluation the environment is to blame for (hung, bad values: evalScheduler.ts) ends the run, failed.
    const fault = this.stopping ? null : this.evals.fault;
    if (fault !== null) {
      this.failed = true;
      this.o.logger.error({ kind: 'eval-env-fault', error: fault }, 'an evaluation failed because of the environment: stopping');
      this.stop(`evaluation failed: ${fault}`);
    }
  }

  /**
   * A short evaluation reached the target return: confirm it over finalEvalEpisodes episodes of
   * the same parameters before stopping, so that the claim is a long mean of the current
   * policy, not a lucky handful.
   */
  private async confirmTarget(params: Float32Array): Promise<void> {
    const v = this.o.learner.version;
    const check = await this.evals.confirm(params, v, this.envSteps, (r) => this.stopPolicy.confirmed(r, this.envSteps) !== null);
    if (check === undefined) return; // failed (logged; an environment at fault stops the run at the next budget check)
    const why = this.stopPolicy.confirmed(check, this.envSteps);
    this.o.logger.info({
      kind: 'target-check',
      version: v,
      envSteps: this.envSteps,
      target: this.o.cfg.targetReturn,
      eval: check,
      reached: why !== null,
    });
    if (why) this.stop(why);
  }

  private async finish(): Promise<SummaryRecord> {
    const { cfg: c, learner } = this.o;
    await this.control.shutdown(learner.version, this.stopReason);
    await this.evals.settle();
    this.checkpoint(true);
    // A crash of the final evaluation (the environment threw or hung) still ends in a summary.
    let finalEval: EvalStat | undefined, finalEvalError: string | undefined;
    try {
      finalEval = await this.evals.final(learner.paramsArray(), learner.version);
    } catch (e) {
      finalEvalError = e instanceof Error ? e.message : String(e);
      this.o.logger.error({ kind: 'final-eval-failed', error: finalEvalError }, 'the final evaluation failed; the summary says so');
    }
    // Stop receiving before counting, so that the summary accounts for every message received.
    await this.control.close();
    const summary = summaryRecord({
      runId: c.runId,
      backend: this.o.backend,
      now: this.o.clock.now(),
      t0: this.t0,
      version: learner.version,
      envSteps: this.envSteps,
      evalEnvSteps: this.evals.envSteps,
      counts: this.intake.counts,
      finalEval,
      finalEvalError,
      ...(this.evals.fault !== null ? { evalError: this.evals.fault } : {}),
      // A run whose final evaluation failed, for whatever reason, has not delivered what it promised: failed.
      failed: this.failed || this.evals.fault !== null || finalEvalError !== undefined,
      randomReturn: this.randomReturn,
      returns: this.returns,
      stopReason: this.stopReason,
    });
    this.o.logger.info(summaryFields(summary), 'run finished');
    await this.evals.close();
    await learner.dispose?.();
    return summary;
  }
}
