/**
 * The learner's training loop, with everything outside it injected: the transport (send to a
 * peer, incoming messages), the clock, the evaluator, the parameter publisher and the logger.
 * learner/server.ts wires the real ZeroMQ socket, Date.now and the worker-thread evaluator;
 * tests wire fakes and drive it in-process.
 *
 * Per update: take a batch (schedule.ts) -> Learner.step -> version + 1 -> publish the
 * parameters -> ack the batch as trained (an actor's credit returns only now) -> evaluate when
 * due -> log the update record -> stop checks (stopPolicy.ts). Every message received is
 * accounted for exactly once by the intake: trained, dropped (with a reason) or rejected (with
 * the same code that is answered to the actor).
 */
import type { Incoming } from '../protocol/transport.js';
import { AckStatus, MsgType, type HeartbeatMsg, type HelloMsg, type Message, type RolloutMsg } from '../protocol/messages.js';
import type { EvalStat, SummaryRecord, UpdateRecord } from '../protocol/records.js';
import { envSpecOf } from '../envs/registry.js';
import type { Clock } from '../protocol/clock.js';
import type { ModelSpec } from '../model/spec.js';
import type { UpdateStats } from './learner.js';
import type { TrainingSegment } from './batch.js';
import type { LearnerServerConfig } from './config.js';
import { Intake, intakeLimits, type QueuedRollout } from './intake.js';
import type { ClaimVerdict } from './verify.js';
import { RefusalLog } from './refusalLog.js';
import { Admission, type Refusal } from './admission.js';
import { batchSchedule, type BatchSchedule } from './schedule.js';
import { EvalSchedule, StopPolicy } from './stopPolicy.js';
import { ReturnWindow, stepsPerSecond, summaryFields, summaryRecord, updateRecord } from './records.js';
import type { Publisher } from './publisher.js';
import type { LoopState } from './runState.js';

/** The learner's side of the transport. */
export interface LoopTransport {
  /** Resolves false when the send failed (counted by the transport), never rejects for a valid message. */
  send(peer: Buffer, msg: Message): Promise<boolean>;
  /** Every message received, decoded; ends after close(). One consumer. */
  incoming(): AsyncIterable<Incoming>;
  close(): void;
}

export interface PolicyEvaluator {
  /** Mean returns of `params` (version `version`) over `episodes` episodes. */
  run(params: Float32Array, version: number, episodes: number): Promise<EvalStat>;
  close(): Promise<void>;
}

/** The calls the loop makes on learner/learner.ts's Learner. */
export interface TrainableLearner {
  readonly version: number;
  /** One update (on the learner threads when configured: this thread only awaits them). */
  update(segs: TrainingSegment[], envSteps: number): Promise<UpdateStats>;
  paramsArray(): Float32Array;
  dispose?(): void | Promise<void>;
}

export interface LoopLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

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
  /** Save checkpoints every `every` updates and when the loop stops (learner/server.ts wires the store). */
  checkpointer?: LoopCheckpointer;
  /** Continue a run from a checkpoint: the learner is already restored, the loop restores its own part. */
  resume?: LoopResume;
  /** Checks an admitted rollout's claims (learner/verify.ts: log mu recomputed from its behaviour version). */
  verifier?: { check(m: RolloutMsg): ClaimVerdict };
}

/** Where the loop's checkpoints go. */
export interface LoopCheckpointer {
  /** Updates between checkpoints (0: only when the loop stops). */
  every: number;
  /** Save the learner's state together with `loop`'s; returns the file and its size in bytes. */
  save(loop: LoopState, final: boolean): { file: string; bytes: number };
}

export interface LoopResume {
  state: LoopState;
  /** The checkpoint's version and file; the learner's version may be higher (versions are never reused). */
  fromVersion: number;
  file: string;
}

const NON_FINITE_DETAIL = 'non-finite-gradient: the batch gradient had NaN or Infinity; not trained';
/** How long the loop waits for rollouts before it checks the budgets again, ms. */
export const IDLE_POLL_MS = 200;

export class TrainingLoop {
  readonly intake: Intake;
  readonly admission: Admission;
  private readonly schedule: BatchSchedule;
  private readonly stopPolicy: StopPolicy;
  private readonly evals: EvalSchedule;
  private readonly returns = new ReturnWindow(100);
  private readonly t0: number;
  private sinceCheckpoint = 0;
  private stopping = false;
  private stopReason = '';
  private envSteps = 0;
  private evalEnvSteps = 0;
  private pendingEval: Promise<EvalStat> | null = null;
  private evalDone: EvalStat | undefined;
  private confirmed: EvalStat | undefined;
  private lastEval: EvalStat | undefined;
  private randomReturn = NaN;
  private receiving: Promise<void> = Promise.resolve();
  private readonly refusals: RefusalLog;
  /** Valid control messages (hellos answered, heartbeats, actor stats): not rollouts, so not in the intake's counts. */
  controlAccepted = 0;

  constructor(private readonly o: TrainingLoopOptions) {
    const c = o.cfg;
    const lim = intakeLimits(c);
    this.intake = new Intake(c.queueCapacity, c.deterministic, lim.maxSeqGap, lim.perPeer);
    this.admission = new Admission({
      modelHash: o.modelHash,
      env: envSpecOf(c.env),
      maxLag: c.maxLag,
      deterministic: c.deterministic,
      actors: c.actors,
      segmentSteps: c.segmentSteps,
      envsPerWorker: c.envsPerWorker,
      heartbeatMs: c.heartbeatMs,
    });
    this.refusals = new RefusalLog(o.logger, () => o.clock.now());
    this.schedule = batchSchedule(c);
    this.t0 = o.clock.now() - (o.resume?.state.elapsedMs ?? 0);
    this.stopPolicy = new StopPolicy(c, this.t0);
    this.evals = new EvalSchedule(c);
    if (o.resume) this.restore(o.resume.state);
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
    this.lastEval = s.lastEval ?? undefined;
  }

  /** The loop's part of a checkpoint, now. */
  state(): LoopState {
    return {
      envSteps: this.envSteps,
      elapsedMs: this.o.clock.now() - this.t0,
      counts: structuredClone(this.intake.counts),
      returns: this.returns.snapshot(),
      randomReturn: this.randomReturn,
      lastEval: this.lastEval ?? null,
    };
  }

  /** Write a checkpoint (logged); a failure is logged and training goes on. */
  private checkpoint(final: boolean): void {
    const cp = this.o.checkpointer;
    if (!cp) return;
    this.sinceCheckpoint = 0;
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

  /** Ask the loop to stop after the current update (budget, target, signal). Idempotent. */
  stop(reason: string): void {
    if (!this.stopping) {
      this.stopping = true;
      this.stopReason = reason;
      this.o.onStopping?.(reason);
    }
    this.intake.wakeAll();
  }

  /** Run the evaluator, counting its environment steps apart from training steps. */
  private async evaluate(params: Float32Array, version: number, episodes: number): Promise<EvalStat> {
    const r = await this.o.evaluator.run(params, version, episodes);
    this.evalEnvSteps += r.envSteps ?? 0;
    return r;
  }

  /** Train until a stop condition; returns the summary record (also logged). */
  async run(): Promise<SummaryRecord> {
    const { cfg: c, learner, logger: log } = this.o;
    await this.o.publisher.publish(learner.version, learner.paramsArray(), []);
    this.receiving = this.receive();
    // A uniform policy (all-zero parameters) is the random baseline for the collapse flag.
    const r = this.o.resume;
    if (r)
      log.info(
        {
          kind: 'resume',
          checkpoint: r.file,
          fromVersion: r.fromVersion,
          version: learner.version,
          envSteps: this.envSteps,
          elapsedSeconds: (this.o.clock.now() - this.t0) / 1000,
        },
        'resumed from a checkpoint',
      );
    else this.checkpoint(false); // version 0: from now on a crash leaves something to resume from
    if (!Number.isFinite(this.randomReturn)) {
      const zeros = new Float32Array(learner.paramsArray().length);
      this.randomReturn = (await this.evaluate(zeros, -1, Math.max(10, c.evalEpisodes))).stochastic;
    }
    log.info({ kind: 'start', endpoint: this.o.endpoint, modelHash: this.o.modelHash, randomReturn: this.randomReturn }, 'learner ready');
    this.checkBudgets(); // a resumed run may have no budget left
    let lastT = this.o.clock.now(),
      lastSteps = this.envSteps;
    while (!this.stopping) {
      const tw = performance.now();
      const batch = await this.nextBatch();
      if (!batch) break;
      const waitMs = performance.now() - tw;
      const tt = this.o.clock.now();
      const st = await this.train(batch);
      this.admission.excuse(this.o.clock.now() - tt, this.o.clock.now());
      // --learner-delay-ms (stress tests): a slower learner; the actors' credit returns only after it.
      if ((c.learnerDelayMs ?? 0) > 0) await this.o.clock.sleep(c.learnerDelayMs!);
      this.expireSilent();
      const tp = performance.now();
      const params = learner.paramsArray();
      await this.o.publisher.publish(
        learner.version,
        params,
        this.admission.actors.map((a) => a.peer),
      );
      for (const q of batch)
        void this.o.transport.send(
          q.peer,
          st.nonFiniteSkips > 0
            ? {
                type: MsgType.Ack,
                status: AckStatus.Dropped,
                seq: q.msg.seq,
                version: learner.version,
                drop: 'non-finite-gradient',
                detail: NON_FINITE_DETAIL,
              }
            : { type: MsgType.Ack, status: AckStatus.Trained, seq: q.msg.seq, version: learner.version },
        );
      const publishMs = performance.now() - tp;
      const ev = await this.maybeEvaluate(params);
      const now = this.o.clock.now();
      const fps = stepsPerSecond(this.envSteps - lastSteps, now - lastT);
      lastT = now;
      lastSteps = this.envSteps;
      const rec = updateRecord({
        version: learner.version,
        envSteps: this.envSteps,
        method: c.objective.method,
        stats: st,
        returns: this.returns,
        eval: ev,
        lastEval: this.lastEval,
        randomReturn: this.randomReturn,
        collapseEntropy: c.collapseEntropy,
        fps,
        queueDepth: this.intake.depth,
        counts: this.intake.counts,
        evalEnvSteps: this.evalEnvSteps,
        timeMs: { waitMs, ...st.times, publishMs },
      });
      log.info(rec);
      this.o.onUpdate?.(rec as unknown as UpdateRecord);
      const cp = this.o.checkpointer;
      if (cp && cp.every > 0 && ++this.sinceCheckpoint >= cp.every) this.checkpoint(false);
      this.checkBudgets();
      if (!this.stopping && this.stopPolicy.needsConfirmation(ev)) await this.confirmTarget(params);
    }
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
    const why = this.stopPolicy.budgetReached(this.envSteps, this.o.clock.now());
    if (why) this.stop(why);
  }

  /**
   * A short evaluation reached the target return: confirm it over finalEvalEpisodes episodes of
   * the same parameters before stopping, so that the claim is a long mean of the current
   * policy, not a lucky handful.
   */
  private async confirmTarget(params: Float32Array): Promise<void> {
    const v = this.o.learner.version;
    const check = await this.evaluate(params, v, this.o.cfg.finalEvalEpisodes);
    this.confirmed = check;
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

  /** Evaluate when due. Deterministic mode waits for the result; asynchronous mode attaches it to the first update after it is ready. */
  private async maybeEvaluate(params: Float32Array): Promise<EvalStat | undefined> {
    const v = this.o.learner.version;
    let ready: EvalStat | undefined;
    if (this.evalDone) {
      ready = this.evalDone;
      this.evalDone = undefined;
    }
    if (this.evals.due(v) && !this.pendingEval) {
      const p = this.evaluate(params, v, this.o.cfg.evalEpisodes);
      if (this.o.cfg.deterministic) ready = await p;
      else {
        this.pendingEval = p;
        p.then(
          (r) => {
            this.evalDone = r;
          },
          (e: unknown) => this.o.logger.error({ kind: 'eval-failed', err: String(e) }, 'evaluation failed'),
        ).finally(() => {
          this.pendingEval = null;
        });
      }
    }
    if (ready) this.lastEval = ready;
    return ready;
  }

  private async nextBatch(): Promise<QueuedRollout[] | null> {
    while (!this.stopping) {
      const b = this.schedule.take(this.intake, this.o.learner.version);
      if (b) return b;
      await this.intake.wait(IDLE_POLL_MS, this.o.clock);
      this.expireSilent();
      this.checkBudgets();
    }
    return null;
  }

  /** One line per (peer, code) per interval, with a count (learner/refusalLog.ts). */
  private warn(code: string, fields: Record<string, unknown>, msg: string): void {
    this.refusals.note(String(fields.peerActorId ?? fields.peer ?? fields.actorId ?? '?'), code, fields, msg);
  }

  /** Drop peers that missed their heartbeats: they leave the publish list, and their ids may be taken. */
  private expireSilent(): void {
    this.refusals.sweep();
    for (const a of this.admission.expire(this.o.clock.now())) {
      this.o.logger.warn(
        { kind: 'actor-dropped', actorId: a.actorId, incarnation: a.incarnation.toString(16), silentMs: this.admission.silenceLimitMs },
        'actor dropped: it missed its heartbeats',
      );
    }
  }

  /** Count a refusal under its code (and warn, naming the peer); the caller answers with the same code. */
  private refuse(r: Refusal, peer: Buffer, fields: Record<string, unknown>, msg: string): void {
    this.intake.reject(r.code);
    this.warn(r.code, { kind: 'rejected', reason: r.reason, ...this.admission.peerFields(peer), ...fields }, msg);
  }

  private async receive(): Promise<void> {
    for await (const inc of this.o.transport.incoming()) {
      const r = inc.result;
      if (!r.ok) {
        this.refuse(r, inc.peer, { bytes: inc.bytes }, 'message rejected');
        continue;
      }
      const m = r.msg;
      if (m.type !== MsgType.Hello) this.admission.touch(inc.peer, this.o.clock.now());
      switch (m.type) {
        case MsgType.Hello:
          await this.onHello(inc.peer, m);
          break;
        case MsgType.Rollout:
          this.onRollout(inc.peer, m);
          break;
        case MsgType.ActorStats: {
          const bad = this.admission.stats(inc.peer, m, this.o.clock.now());
          if (bad) this.refuse(bad, inc.peer, { actorId: m.actorId }, 'actor stats rejected');
          else {
            this.controlAccepted++;
            this.o.logger.info({ kind: 'actor-stats', actorId: m.actorId, stats: m.stats });
          }
          break;
        }
        case MsgType.Heartbeat:
          this.onHeartbeat(inc.peer, m);
          break;
        default:
          this.refuse(
            { code: 'UNEXPECTED_TYPE', reason: `UNEXPECTED_TYPE: message type ${m.type} is not sent to the learner` },
            inc.peer,
            { type: m.type },
            'message type not expected by the learner',
          );
      }
    }
  }

  private onHeartbeat(peer: Buffer, m: HeartbeatMsg): void {
    const bad = this.admission.heartbeat(peer, m);
    if (!bad) {
      this.controlAccepted++;
      return;
    }
    this.refuse(bad, peer, { actorId: m.actorId }, 'heartbeat rejected');
    // An actor of the learner's previous life (a restart, or a resume): tell it to join again.
    if (bad.code === 'UNKNOWN_ACTOR' && this.admission.answerUnknown(peer, this.o.clock.now()))
      void this.o.transport.send(peer, { type: MsgType.Reject, reason: bad.reason });
  }

  private async onHello(peer: Buffer, m: HelloMsg): Promise<void> {
    const v = this.admission.hello(peer, m, this.o.clock.now());
    if (!v.ok) {
      this.refuse(v, peer, { actorId: m.actorId, helloIncarnation: m.incarnation.toString(16) }, 'actor hello rejected');
      // A rate-limited hello is not answered: answering is what a flood would buy.
      if (v.code !== 'RATE_LIMITED') await this.o.transport.send(peer, { type: MsgType.Reject, reason: v.reason });
      return;
    }
    this.controlAccepted++;
    if (v.newIncarnation) this.intake.resetSeq(m.actorId);
    if (v.replaced)
      this.o.logger.warn(
        { kind: 'actor-replaced', actorId: m.actorId, incarnation: v.replaced.incarnation.toString(16), by: m.incarnation.toString(16) },
        'a silent actor was replaced by a new peer with its id',
      );
    if (v.joined)
      this.o.logger.info(
        { kind: 'actor-joined', actorId: m.actorId, numEnvs: m.numEnvs, incarnation: m.incarnation.toString(16) },
        'actor joined',
      );
    await this.o.publisher.welcome(peer);
  }

  private onRollout(peer: Buffer, m: RolloutMsg): void {
    const version = this.o.learner.version;
    let bad = this.admission.rollout(peer, m, version);
    if (bad === null) {
      const gap = this.intake.seqRefusal(m.actorId, m.seq);
      if (gap !== null) bad = { code: 'SEQ_GAP', reason: `SEQ_GAP: ${gap}` };
    }
    if (bad === null) {
      const full = this.intake.inFlightRefusal(peer);
      if (full !== null) bad = { code: 'IN_FLIGHT_LIMIT', reason: `IN_FLIGHT_LIMIT: ${full}` };
    }
    const claim = bad === null ? (this.o.verifier?.check(m) ?? null) : null;
    if (claim && 'code' in claim) bad = claim;
    if (bad) {
      // A registered actor's rejected rollout used its seq: counted as rejected, not also as lost.
      if (bad.code !== 'UNKNOWN_ACTOR' && bad.code !== 'BAD_ACTOR_ID') this.intake.skip(m.actorId, m.seq);
      this.refuse(bad, peer, { actorId: m.actorId, seq: m.seq }, 'rollout rejected');
      void this.o.transport.send(peer, {
        type: MsgType.Ack,
        status: AckStatus.Rejected,
        seq: m.seq,
        version,
        code: bad.code,
        reason: bad.reason,
      });
      return;
    }
    const decision = (claim && 'drop' in claim ? claim : null) ?? this.admission.dropFor(version - m.behaviourVersion, this.stopping);
    const dropped = this.intake.offer({ msg: m, peer }, decision?.drop ?? null);
    if (dropped) {
      const detail = decision?.drop === dropped ? decision.detail : dropped;
      this.warn(`drop:${dropped}`, { kind: 'dropped', reason: detail, actorId: m.actorId, seq: m.seq }, 'rollout dropped');
      void this.o.transport.send(peer, { type: MsgType.Ack, status: AckStatus.Dropped, seq: m.seq, version, drop: dropped, detail });
    }
  }

  private async finish(): Promise<SummaryRecord> {
    const { cfg: c, learner, transport } = this.o;
    // Tell every actor now, not only those with a rollout in the queue: an actor whose rollout
    // was just trained would otherwise wait for an ack until its idle timeout. Best effort (the
    // idle timeout stays the fallback); rollouts still arriving are dropped with 'shutdown'.
    const stop = { type: MsgType.Stop as const, version: learner.version, reason: this.stopReason };
    await Promise.all(this.admission.actors.map((a) => transport.send(a.peer, stop)));
    for (const q of this.intake.drain()) {
      void transport.send(q.peer, {
        type: MsgType.Ack,
        status: AckStatus.Dropped,
        seq: q.msg.seq,
        version: learner.version,
        drop: 'shutdown',
        detail: 'shutdown: the learner is stopping',
      });
    }
    if (this.pendingEval) await this.pendingEval.catch(() => undefined);
    this.checkpoint(true);
    const finalEval =
      this.evals.reusableFinal(this.confirmed, learner.version) ??
      (await this.evaluate(learner.paramsArray(), learner.version, c.finalEvalEpisodes));
    // Stop receiving before counting, so that the summary accounts for every message received.
    transport.close();
    await this.receiving;
    this.refusals.flush();
    const summary = summaryRecord({
      runId: c.runId,
      backend: this.o.backend,
      now: this.o.clock.now(),
      t0: this.t0,
      version: learner.version,
      envSteps: this.envSteps,
      evalEnvSteps: this.evalEnvSteps,
      counts: this.intake.counts,
      finalEval,
      randomReturn: this.randomReturn,
      returns: this.returns,
      stopReason: this.stopReason,
    });
    this.o.logger.info(summaryFields(summary), 'run finished');
    await this.o.evaluator.close();
    await learner.dispose?.();
    return summary;
  }
}
