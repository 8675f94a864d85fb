/**
 * The learner's control plane: everything that arrives on the socket and every answer that is
 * not a parameter version. It dispatches each incoming message (hello, rollout, heartbeat,
 * actor stats; anything else refused), answers refusals with the same code it counts,
 * registers and expires actors (admission.ts), accounts for every rollout exactly once (the
 * intake: trained, dropped with a reason, rejected with a code), acks trained batches, and at
 * shutdown tells every actor to stop and drops what is still queued ('shutdown').
 *
 * The training loop (loop.ts) sees only `batches()`: an async iterator of complete batches in
 * the schedule's order (schedule.ts), which ends once `stop()` was called.
 */
import { AckStatus, MsgType, type AckMsg, type HeartbeatMsg, type HelloMsg, type RolloutMsg } from '../protocol/messages.js';
import type { Clock } from '../protocol/clock.js';
import { envSpecOf } from '../envs/registry.js';
import type { LearnerServerConfig } from './config.js';
import { Intake, intakeLimits, type QueuedRollout } from './intake.js';
import type { ClaimVerdict } from './verify.js';
import { RefusalLog } from './refusalLog.js';
import { Admission, type Refusal } from './admission.js';
import { batchSchedule, type BatchSchedule } from './schedule.js';
import type { Publisher } from './publisher.js';
import type { LoopLogger, LoopTransport } from './ports.js';

/** How long the control plane waits for rollouts before it runs the idle checks again, ms. */
export const IDLE_POLL_MS = 200;
/** A batch that has waited this long, with rollouts queued and none arriving from connected actors, is reported (once), ms. */
export const STALL_WARN_MS = 15_000;
const NON_FINITE_DETAIL = 'non-finite-gradient: the batch gradient had NaN or Infinity; not trained';

export interface ControlPlaneOptions {
  cfg: LearnerServerConfig;
  modelHash: number;
  transport: LoopTransport;
  clock: Clock;
  /** Answers a hello, and each rollout of an actor that lacks them, with the newest parameters. */
  publisher: Publisher;
  logger: LoopLogger;
  /** The learner's current version (lag of a rollout, version of an ack). */
  version: () => number;
  /** Checks an admitted rollout's claims (learner/verify.ts: log mu recomputed from its behaviour version). */
  verifier?: { check(m: RolloutMsg): ClaimVerdict };
}

export class ControlPlane {
  readonly intake: Intake;
  readonly admission: Admission;
  private readonly schedule: BatchSchedule;
  private readonly refusals: RefusalLog;
  private receiving: Promise<void> | null = null;
  private stopping = false;
  private stopReason = '';
  /** The message of the current stall (a batch that cannot fill, reported after STALL_WARN_MS); null when none. */
  stalled: string | null = null;
  /** Valid control messages (hellos answered, heartbeats, actor stats): not rollouts, so not in the intake's counts. */
  controlAccepted = 0;

  constructor(private readonly o: ControlPlaneOptions) {
    const c = o.cfg;
    const lim = intakeLimits(c);
    this.intake = new Intake(c.queueCapacity, c.deterministic, lim.maxSeqGap, lim.perPeer);
    this.refusals = new RefusalLog(o.logger, () => o.clock.now());
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
    this.schedule = batchSchedule(c);
  }

  /** Start receiving (once). */
  start(): void {
    this.receiving ??= this.receive();
  }

  /** From now on valid rollouts are dropped ('shutdown'), `batches()` ends and a new hello is answered with Stop. Idempotent. */
  stop(reason = ''): void {
    if (!this.stopping) this.stopReason = reason;
    this.stopping = true;
    this.intake.wakeAll();
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /**
   * The batches to train on, each complete as the schedule takes it, until stop(). While none is
   * complete it waits (at most IDLE_POLL_MS at a time), expires silent actors and calls `onIdle`
   * (the training loop's budget checks, which may stop it).
   */
  async *batches(onIdle: () => void = () => {}): AsyncGenerator<QueuedRollout[], void, undefined> {
    // A stall: some rollouts queued, not a batch, and no new one for STALL_WARN_MS while actors
    // are connected (their heartbeats keep them registered). Reported once per stall.
    let queued = -1,
      since = this.o.clock.now();
    while (!this.stopping) {
      const b = this.schedule.take(this.intake, this.o.version());
      if (b) {
        queued = -1;
        this.stalled = null;
        yield b;
        continue;
      }
      await this.intake.wait(IDLE_POLL_MS, this.o.clock);
      this.expireSilent();
      onIdle();
      const q = this.intake.counts.pending;
      const now = this.o.clock.now();
      if (q !== queued) {
        queued = q;
        since = now;
        this.stalled = null;
      } else if (this.stalled === null && q > 0 && this.admission.actors.length > 0 && now - since >= STALL_WARN_MS) {
        this.reportStall(q, (now - since) / 1000); // sets this.stalled: once per stall
      }
    }
  }

  private reportStall(queued: number, seconds: number): void {
    const c = this.o.cfg;
    const actors = this.admission.actors.length;
    this.stalled = `waiting for a batch: ${queued} of ${c.batchSegments} rollouts queued, none new for ${Math.round(seconds)} s from the ${actors} connected actor(s) (--actors ${c.actors}), which keep at most --max-inflight rollouts per worker unacknowledged until they are trained. If actors x workers x max-inflight < --batch-segments (${c.batchSegments}) the run cannot go on: give the actors a larger --max-inflight, start more of them, or lower --batch-segments${c.deterministic ? ' (--deterministic: each actor sends its share of every batch in order; one that restarted or skipped a sequence number stalls it too)' : ''}`;
    this.o.logger.warn(
      { kind: 'batch-stalled', queued, batchSegments: c.batchSegments, actors, seconds: Math.round(seconds) },
      this.stalled,
    );
  }

  /** Peers of the registered actors. */
  peers(): Buffer[] {
    return this.admission.actors.map((a) => a.peer);
  }

  /**
   * Ack each rollout of a trained `batch` at `version` (its actor's credit returns now), each
   * ack preceded by the newest parameters when its actor has not had them yet.
   */
  acknowledge(batch: QueuedRollout[], version: number, trained = true): void {
    for (const q of batch)
      this.answer(
        q.peer,
        trained
          ? { type: MsgType.Ack, status: AckStatus.Trained, seq: q.msg.seq, version }
          : {
              type: MsgType.Ack,
              status: AckStatus.Dropped,
              seq: q.msg.seq,
              version,
              drop: 'non-finite-gradient',
              detail: NON_FINITE_DETAIL,
            },
      );
  }

  /**
   * Answer a rollout: a registered actor first gets the newest parameters if it has not had them
   * (publisher.ts: at most one parameter message per rollout answered), then the ack; both are
   * queued now, in this order, so the parameters arrive before the credit they go with.
   */
  private answer(peer: Buffer, ack: AckMsg): void {
    if (this.admission.actorOf(peer)) void this.o.publisher.refresh(peer);
    void this.o.transport.send(peer, ack);
  }

  /** Drop peers that missed their heartbeats: they leave the publish list, and their ids may be taken. */
  expireSilent(): void {
    this.refusals.sweep();
    for (const a of this.admission.expire(this.o.clock.now())) {
      this.o.publisher.forget(a.peer);
      this.o.logger.warn(
        { kind: 'actor-dropped', actorId: a.actorId, incarnation: a.incarnation.toString(16), silentMs: this.admission.silenceLimitMs },
        'actor dropped: it missed its heartbeats',
      );
    }
  }

  /**
   * Tell every registered actor that the learner stops (not only those with a rollout in the
   * queue: an actor whose rollout was just trained would otherwise wait for an ack until its idle
   * timeout), then drop what is still queued with 'shutdown' acks. Best effort: the actors' idle
   * timeout stays the fallback; rollouts still arriving are dropped with 'shutdown'.
   */
  async shutdown(version: number, reason: string): Promise<void> {
    this.stop();
    const t = this.o.transport;
    const stop = { type: MsgType.Stop as const, version, reason };
    await Promise.all(this.peers().map((p) => t.send(p, stop)));
    for (const q of this.intake.drain()) {
      void t.send(q.peer, {
        type: MsgType.Ack,
        status: AckStatus.Dropped,
        seq: q.msg.seq,
        version,
        drop: 'shutdown',
        detail: 'shutdown: the learner is stopping',
      });
    }
  }

  /** Close the transport and wait until every message received has been accounted for. */
  async close(): Promise<void> {
    this.o.transport.close();
    await this.receiving;
    this.refusals.flush();
  }

  /** One line per (peer, code) per interval, with a count (learner/refusalLog.ts). */
  private warn(code: string, fields: Record<string, unknown>, msg: string): void {
    this.refusals.note(String(fields.peerActorId ?? fields.peer ?? fields.actorId ?? '?'), code, fields, msg);
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
    // The run is ending (a budget reached, a signal): a new actor would get parameters and then
    // no Stop (shutdown stops the actors it knows). Tell it now, and it ends cleanly.
    if (this.stopping) {
      await this.o.transport.send(peer, { type: MsgType.Stop, version: this.o.version(), reason: this.stopReason });
      return;
    }
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
    // A repeated hello of the same incarnation (an actor hellos until its first parameters
    // arrive) gets them only if it has not had the newest: hellos do not multiply parameter sends.
    if (v.joined || v.newIncarnation) await this.o.publisher.welcome(peer);
    else await this.o.publisher.refresh(peer);
  }

  private onRollout(peer: Buffer, m: RolloutMsg): void {
    const version = this.o.version();
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
      this.answer(peer, {
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
      this.answer(peer, { type: MsgType.Ack, status: AckStatus.Dropped, seq: m.seq, version, drop: dropped, detail });
    }
  }
}
