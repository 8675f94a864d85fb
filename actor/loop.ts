/**
 * The actor's loop, with its transport, clock and segment sources (one per slot) injected:
 * actor/actor.ts wires the real DEALER socket, the wall clock and one piscina worker thread per
 * slot; tests wire fakes and drive it in-process.
 *
 * Each slot loops: wait for credit -> choose the behaviour version (newest held minus the
 * injected lag, clamped to the oldest held) -> collect a T-step segment -> send it as a Rollout
 * with the next sequence number. Flow control: a slot may have `maxInFlight` unacknowledged
 * rollouts; the learner acks a rollout once the update that trained on it has published its
 * parameters (at once when it drops or rejects it), so with one in flight the natural lag is 0.
 * Deterministic mode: each slot has exactly `segmentsPerUpdate` in flight, segment j of slot w
 * gets sequence number j * W + w, and rollouts are sent in sequence order.
 *
 * Liveness: the actor hellos (every HELLO_EVERY_MS) until parameters arrive and exits with an
 * error naming the endpoint when none arrive within `connectTimeoutMs` (nothing listens, or the
 * CURVE handshake fails: a send succeeds either way). It sends a Heartbeat every `heartbeatMs`.
 * It joins again as a new incarnation (fresh random id, sequence numbers from 0, parameter
 * history cleared) when the learner no longer knows it: a rollout rejected as UNKNOWN_ACTOR, or
 * Params of a lower version than it holds (a restarted learner), or a Reject naming UNKNOWN_ACTOR
 * (the learner's answer to a heartbeat from a peer it does not know).
 *
 * Learner down (asynchronous mode, `bufferSegments` > 0): while the transport reports the link
 * down (the learner died: its TCP connection closed), slots keep collecting with the newest
 * parameters held and keep at most `bufferSegments` collected segments, the oldest dropped and
 * counted (`bufferDropped`; a full buffer is refreshed one segment per slot every CREDIT_POLL_MS,
 * so an outage does not spin the CPU). zmq reconnects by itself; once the restarted learner answers (it
 * refuses the old incarnation's heartbeat, the actor joins again) the buffer is sent first, under
 * the usual credit, with fresh sequence numbers, and the learner trains, drops (stale, with its
 * reason) or rejects each buffered rollout like any other. Rollouts in flight when the learner
 * forgot the actor are counted as `lostInFlight`. The idle timeout still bounds the wait.
 */
import { randomInt } from 'node:crypto';
import { AckStatus, MsgType, type HelloMsg, type Message, type RolloutMsg } from '../protocol/messages.js';
import type { BehaviourOptions } from './collect.js';
import type { DecodeResult } from '../protocol/codec.js';
import { WOKEN, type Clock } from '../protocol/clock.js';
import { validateParams } from '../protocol/validate.js';
import type { ModelSpec } from '../model/spec.js';
import { modelHash, paramCount } from '../model/params.js';
import { ParamHistory } from '../model/history.js';
import { Rng } from '../model/rng.js';
import { mix32 } from '../model/hash.js';
import { envSpecOf } from '../envs/registry.js';
import { sampleLag, type LagSpec } from '../protocol/lag.js';
import type { CollectTask } from './worker.js';
import type { Segment } from './collect.js';

/** The actor's side of the transport. */
export interface ActorTransport {
  send(msg: Message): Promise<boolean>;
  /** Messages from the learner, decoded; ends after close(). One consumer. */
  incoming(): AsyncIterable<DecodeResult>;
  close(): void;
  /** Whether the link to the learner is up (absent: assumed up, and segments are never buffered). */
  connected?(): boolean;
}

/** Where a slot's segments come from (a worker thread holding the slot's environments). */
export interface SegmentSource {
  collect(task: CollectTask): Promise<Segment>;
  destroy(): Promise<void>;
}

export interface ActorLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface ActorLoopOptions {
  actorId: number;
  /** The learner's endpoint, for messages. */
  endpoint: string;
  envId: string;
  modelSpec: ModelSpec;
  workers: number;
  envsPerWorker: number;
  segmentSteps: number;
  seed: number;
  lag: LagSpec;
  actorDelayMs: number;
  maxInFlight: number;
  historyVersions: number;
  /** Deterministic schedule: segments per slot per learner update (0 = asynchronous mode). */
  deterministicSegmentsPerSlot: number;
  statsEveryMs: number;
  /** Fail when the learner has been silent this long (ms) while a slot waits for credit. */
  idleTimeoutMs: number;
  /** Heartbeat interval, ms (default HEARTBEAT_MS). */
  heartbeatMs?: number;
  /** Exit when hellos go unanswered this long, ms (default CONNECT_TIMEOUT_MS). */
  connectTimeoutMs?: number;
  logger: ActorLogger;
  /** Groups and teacher of the sequence tasks (default: independent envs, all policy). */
  behaviour?: BehaviourOptions;
  /** Segments kept while the learner is unreachable, oldest dropped first (default 0: slots wait; asynchronous mode only). */
  bufferSegments?: number;
}

export interface ActorLoopDeps {
  transport: ActorTransport;
  clock: Clock;
  /** Segment source of slot w (w = 0..workers-1). */
  source: (w: number) => SegmentSource;
  /** A new incarnation id, a u32 (default: random, from node:crypto). */
  incarnation?: () => number;
}

/** A collected segment not yet sent: by slot `w`, acting with parameters `version`, `lag` behind the newest held. */
interface Collected {
  w: number;
  version: number;
  lag: number;
  seg: Segment;
}

interface Slot {
  source: SegmentSource;
  inFlight: number;
  j: number;
  rng: Rng;
  seed: number;
}

/** How often a slot without credit checks for acks and for a silent learner, ms. */
export const CREDIT_POLL_MS = 200;
/** How often the actor repeats its hello until the first parameters arrive, ms. */
export const HELLO_EVERY_MS = 1000;
/** Defaults of heartbeatMs and connectTimeoutMs. */
export const HEARTBEAT_MS = 1000;
export const CONNECT_TIMEOUT_MS = 30_000;

const randomIncarnation = (): number => randomInt(1, 0x1_0000_0000);

/** Seed of slot `w`'s environments (and, mixed, of its lag draws). */
export function slotSeed(seed: number, actorId: number, w: number): number {
  return mix32(seed * 1_000_003 + actorId * 1009 + w + 1);
}

export class ActorLoop {
  history: ParamHistory;
  /** This actor's current incarnation id (changes when it re-joins a restarted learner). */
  incarnation: number;
  /** Times this actor joined again after the learner forgot it. */
  rejoins = 0;
  private rejoining: Promise<void> | null = null;
  /** Bumped at every re-join: a segment collected before it is discarded. */
  private epoch = 0;
  private readonly slots: Slot[] = [];
  private stopped = false;
  private readonly stopCtl = new AbortController();
  private readonly waiters = new Set<() => void>();
  private lastHeard: number;
  private fatal: Error | null = null;
  private readonly seqToSlot = new Map<number, number>();
  private nextSeq = 0;
  private readonly pendingSends = new Map<number, RolloutMsg>();
  private nextSendSeq = 0;
  // Statistics.
  private segmentsSent = 0;
  private versionsReceived = 0;
  private envSteps = 0;
  private lagSum = 0;
  private lagN = 0;
  private lagMin = Infinity;
  private lagMax = -Infinity;
  private clampedLag = 0;
  /** Segments collected while the learner was unreachable, not yet sent (oldest first). */
  private readonly backlog: Collected[] = [];
  private buffered = 0;
  private bufferDropped = 0;
  private lostInFlight = 0;
  private downSince: number | null = null;
  private statsT0: number;
  private statsSteps0 = 0;

  constructor(
    private readonly o: ActorLoopOptions,
    private readonly d: ActorLoopDeps,
  ) {
    this.history = new ParamHistory(o.historyVersions);
    this.incarnation = (d.incarnation ?? randomIncarnation)();
    this.lastHeard = d.clock.now();
    this.statsT0 = d.clock.now();
  }

  /** Run until `stop()`, the learner's Stop, or a fatal error (rejects with it: a Reject from the learner, a silent learner). */
  async run(): Promise<void> {
    const o = this.o;
    const env = envSpecOf(o.envId);
    for (let w = 0; w < o.workers; w++) {
      const seed = slotSeed(o.seed, o.actorId, w);
      this.slots.push({ source: this.d.source(w), inFlight: 0, j: 0, rng: new Rng(mix32(seed ^ 0x9e3779b9)), seed });
    }
    const receiving = this.receive();
    let stats: Promise<void> = Promise.resolve();
    let beats: Promise<void> = Promise.resolve();
    try {
      this.helloBase = {
        type: MsgType.Hello,
        actorId: o.actorId,
        envId: o.envId,
        obsDim: env.obsDim,
        nActions: env.nActions,
        numEnvs: o.workers * o.envsPerWorker,
        modelHash: modelHash(o.modelSpec),
        incarnation: 0,
      };
      await this.join();
      stats = this.statsLoop();
      beats = this.heartbeatLoop();
      await Promise.all(this.slots.map((_, w) => this.slotLoop(w)));
      this.checkFatal();
    } finally {
      this.stop();
      await stats;
      await beats;
      this.reportStats();
      this.d.transport.close();
      await receiving;
      await Promise.all(this.slots.map((s) => s.source.destroy()));
    }
  }

  /** Ask the loops to end after their current segment. Idempotent. */
  stop(): void {
    this.stopped = true;
    this.stopCtl.abort();
    this.notify();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  private helloBase: HelloMsg | null = null;
  private lastRefusal = '';

  /**
   * Hello until parameters arrive (a send can succeed without reaching anyone); fail after
   * connectTimeoutMs of unanswered hellos.
   */
  private async join(): Promise<void> {
    const o = this.o;
    const hello: HelloMsg = { ...this.helloBase!, incarnation: this.incarnation };
    const t0 = this.d.clock.now();
    const limit = o.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
    let n = 0;
    while (!this.stopped && this.history.latest < 0) {
      const waited = this.d.clock.now() - t0;
      if (waited >= limit) {
        this.fail(
          new Error(
            `no answer from the learner at ${o.endpoint} to ${n} hellos in ${Math.round(waited / 1000)} s (nothing listening there, a firewall, or a CURVE key the learner does not accept)${this.lastRefusal ? `; last refusal: ${this.lastRefusal}` : ''}; exiting`,
          ),
        );
        break;
      }
      n++;
      // Not awaited: a DEALER's send waits for a connected peer, which never comes when nothing
      // listens or the CURVE handshake fails; close() ends the queued sends.
      void this.d.transport.send(hello);
      // Wait out the interval (other messages wake waitFor early): never faster than one hello per interval.
      const next = this.d.clock.now() + Math.min(HELLO_EVERY_MS, limit - waited);
      while (!this.stopped && this.history.latest < 0 && this.d.clock.now() < next) await this.waitFor(next - this.d.clock.now());
      this.checkFatal();
    }
  }

  /** The learner forgot this actor (restarted): join again as a new incarnation with fresh sequence numbers. */
  private startRejoin(why: string): void {
    if (this.rejoining || this.stopped) return;
    this.epoch++;
    this.rejoins++;
    const old = this.incarnation;
    this.incarnation = (this.d.incarnation ?? randomIncarnation)();
    this.history = new ParamHistory(this.o.historyVersions);
    this.seqToSlot.clear();
    this.pendingSends.clear();
    this.nextSeq = 0;
    this.nextSendSeq = 0;
    let lost = 0;
    for (const s of this.slots) {
      lost += s.inFlight;
      s.inFlight = 0;
      s.j = 0;
    }
    this.lostInFlight += lost;
    this.lastHeard = this.d.clock.now();
    this.o.logger.warn(
      {
        kind: 'rejoin',
        actorId: this.o.actorId,
        reason: why,
        incarnation: this.incarnation.toString(16),
        previous: old.toString(16),
        lostInFlight: lost,
        buffered: this.backlog.length,
      },
      'the learner no longer knows this actor; joining again',
    );
    this.rejoining = this.join().finally(() => {
      this.rejoining = null;
      this.notify();
    });
  }

  /** A Heartbeat every heartbeatMs until stopped. */
  private async heartbeatLoop(): Promise<void> {
    const every = this.o.heartbeatMs ?? HEARTBEAT_MS;
    while (!this.stopped) {
      await this.d.clock.sleep(every, this.stopCtl.signal);
      // Not while the link is down: the sends would queue until zmq reconnects.
      if (!this.stopped && this.linkUp())
        void this.d.transport.send({ type: MsgType.Heartbeat, actorId: this.o.actorId, incarnation: this.incarnation });
    }
  }

  private linkUp(): boolean {
    return this.d.transport.connected?.() ?? true;
  }

  /** Whether slots buffer instead of sending: the link is down and buffering is on (asynchronous mode). */
  private buffering(): boolean {
    return (this.o.bufferSegments ?? 0) > 0 && this.o.deterministicSegmentsPerSlot === 0 && !this.linkUp();
  }

  /** Log the first moment of an outage and the moment it ends. */
  private noteLink(down: boolean): void {
    if (down && this.downSince === null) {
      this.downSince = this.d.clock.now();
      this.o.logger.warn(
        { kind: 'learner-unreachable', actorId: this.o.actorId, endpoint: this.o.endpoint, bufferSegments: this.o.bufferSegments },
        'the link to the learner is down; collecting into the buffer until it returns',
      );
    } else if (!down && this.downSince !== null) {
      this.o.logger.info(
        {
          kind: 'learner-reachable',
          actorId: this.o.actorId,
          downMs: this.d.clock.now() - this.downSince,
          buffered: this.backlog.length,
          bufferDropped: this.bufferDropped,
        },
        'the link to the learner is up again',
      );
      this.downSince = null;
    }
  }

  /** Keep `c` for later; beyond bufferSegments the oldest is dropped and counted. */
  private keep(c: Collected): void {
    this.backlog.push(c);
    this.buffered++;
    while (this.backlog.length > (this.o.bufferSegments ?? 0)) {
      this.backlog.shift();
      this.bufferDropped++;
    }
  }

  /** Fail when the learner has been silent longer than the idle timeout. */
  private checkIdle(): void {
    const silent = this.d.clock.now() - this.lastHeard;
    if (silent <= this.o.idleTimeoutMs) return;
    const kept = this.downSince !== null ? ` (link down; ${this.backlog.length} segment(s) buffered, ${this.bufferDropped} dropped)` : '';
    this.fail(new Error(`learner at ${this.o.endpoint} silent for ${Math.round(silent / 1000)} s${kept}; exiting`));
  }

  private checkFatal(): void {
    if (this.fatal) throw this.fatal;
  }

  private fail(e: Error): void {
    this.fatal ??= e;
    this.stop();
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolve after `ms` or at the next notify(), whichever comes first. */
  private async waitFor(ms: number): Promise<void> {
    const ac = new AbortController();
    const done = () => ac.abort(WOKEN);
    this.waiters.add(done);
    try {
      await this.d.clock.sleep(ms, ac.signal);
    } finally {
      this.waiters.delete(done);
    }
  }

  private async receive(): Promise<void> {
    const o = this.o;
    const count = paramCount(o.modelSpec);
    const hash = modelHash(o.modelSpec);
    for await (const r of this.d.transport.incoming()) {
      this.lastHeard = this.d.clock.now();
      if (!r.ok) {
        o.logger.warn({ kind: 'bad-message', reason: r.reason }, 'message from learner rejected');
        continue;
      }
      const m = r.msg;
      if (m.type === MsgType.Params) {
        const bad = validateParams(m, { modelHash: hash, paramCount: count });
        if (bad) o.logger.warn({ kind: 'bad-params', reason: bad }, 'parameters rejected');
        else if (m.version < this.history.latest)
          this.startRejoin(`params version ${m.version} is older than the newest held ${this.history.latest} (the learner restarted)`);
        else {
          this.history.add(m.version, sharedCopy(m.params));
          this.versionsReceived++;
        }
      } else if (m.type === MsgType.Ack) {
        if (m.status === AckStatus.Rejected && m.code === 'UNKNOWN_ACTOR') {
          this.startRejoin(m.reason);
          this.notify();
          continue;
        }
        const w = this.seqToSlot.get(m.seq);
        if (w !== undefined) {
          this.seqToSlot.delete(m.seq);
          this.slots[w].inFlight--;
        }
        if (m.status === AckStatus.Dropped)
          o.logger.warn(
            { kind: 'rollout-not-trained', seq: m.seq, status: 'dropped', drop: m.drop, reason: m.detail },
            'learner did not train a rollout',
          );
        else if (m.status === AckStatus.Rejected)
          o.logger.warn(
            { kind: 'rollout-not-trained', seq: m.seq, status: 'rejected', code: m.code, reason: m.reason },
            'learner rejected a rollout',
          );
      } else if (m.type === MsgType.Stop) {
        o.logger.info({ kind: 'learner-stopping', version: m.version, reason: m.reason }, 'the learner is stopping; this actor stops too');
        this.stop();
      } else if (m.type === MsgType.Reject && m.reason.startsWith('UNKNOWN_ACTOR')) {
        // The learner's answer to a heartbeat it cannot place: it restarted and forgot this actor.
        this.startRejoin(m.reason);
      } else if (m.type === MsgType.Reject && m.reason.startsWith('ACTOR_ID_IN_USE')) {
        // Another peer holds the id: keep saying hello until it misses its heartbeats (a restart
        // of this actor) or the connect timeout ends this one (two actors given one id).
        this.lastRefusal = m.reason;
        o.logger.warn(
          { kind: 'actor-id-in-use', actorId: o.actorId, reason: m.reason },
          'the learner has a live actor with this id; retrying',
        );
      } else if (m.type === MsgType.Reject) {
        this.fail(new Error(`learner rejected actor ${o.actorId}: ${m.reason}`));
      } else {
        o.logger.warn({ kind: 'bad-message', type: m.type }, 'message type not expected by an actor');
      }
      this.notify();
    }
  }

  private credit(): number {
    return this.o.deterministicSegmentsPerSlot > 0 ? this.o.deterministicSegmentsPerSlot : this.o.maxInFlight;
  }

  private async slotLoop(w: number): Promise<void> {
    const o = this.o;
    const slot = this.slots[w];
    while (!this.stopped) {
      if (this.rejoining) {
        await this.rejoining;
        continue;
      }
      const down = this.buffering();
      this.noteLink(down);
      if (down) {
        this.checkIdle();
        // A full buffer is refreshed at the credit-poll pace, not as fast as the CPU allows: the
        // parameters cannot change until the learner is back.
        if (this.backlog.length >= (o.bufferSegments ?? 0)) await this.waitFor(CREDIT_POLL_MS);
        if (!this.stopped && this.buffering()) await this.collectOne(w);
        continue;
      }
      if (slot.inFlight >= this.credit()) {
        await this.waitFor(CREDIT_POLL_MS);
        this.checkIdle();
        continue;
      }
      const kept = this.backlog.shift();
      if (kept) await this.send(w, kept);
      else await this.collectOne(w);
    }
  }

  /** Collect one segment on slot `w` and send it, or keep it while the learner is unreachable. */
  private async collectOne(w: number): Promise<void> {
    const o = this.o;
    const slot = this.slots[w];
    const k = sampleLag(o.lag, slot.rng);
    const latest = this.history.latest;
    let version = Math.max(0, latest - k);
    if (!this.history.has(version)) {
      // The learner sends parameters with its answers to this actor's rollouts, not every version
      // (learner/publisher.ts): act with the newest held version at least k behind, else clamp.
      const behind = this.newestHeldAtMost(version);
      if (behind >= 0) version = behind;
      else {
        version = this.history.oldest;
        this.clampedLag++;
      }
    }
    const params = this.history.get(version)!;
    const epoch = this.epoch;
    const seg = await slot.source.collect({
      envId: o.envId,
      numEnvs: o.envsPerWorker,
      seed: slot.seed,
      modelSpec: o.modelSpec,
      params,
      T: o.segmentSteps,
      ...(o.behaviour ? { behaviour: o.behaviour } : {}),
    });
    if (o.actorDelayMs > 0) await this.d.clock.sleep(o.actorDelayMs);
    this.envSteps += seg.T * seg.E;
    const c: Collected = { w, version, lag: latest - version, seg };
    const buffer = (o.bufferSegments ?? 0) > 0 && o.deterministicSegmentsPerSlot === 0;
    // Collected for a learner that is gone (re-joined meanwhile), while the link is down, or
    // begun during an outage without credit: kept, and sent first once credit allows.
    if (buffer && (epoch !== this.epoch || this.buffering() || slot.inFlight >= this.credit())) this.keep(c);
    else if (epoch === this.epoch) await this.send(w, c);
  }

  /** The newest version held that is at most `v`, or -1. */
  private newestHeldAtMost(v: number): number {
    let best = -1;
    for (const [held] of this.history.entries()) if (held <= v && held > best) best = held;
    return best;
  }

  /** Send `c` on slot `w`'s credit with the next sequence number. */
  private async send(w: number, c: Collected): Promise<void> {
    const o = this.o;
    const slot = this.slots[w];
    const seq = o.deterministicSegmentsPerSlot > 0 ? slot.j * o.workers + w : this.nextSeq++;
    slot.j++;
    slot.inFlight++;
    this.seqToSlot.set(seq, w);
    this.noteLag(c.lag);
    this.pendingSends.set(seq, { type: MsgType.Rollout, actorId: o.actorId, seq, workerId: c.w, behaviourVersion: c.version, ...c.seg });
    await this.flushInOrder();
  }

  /** Send buffered rollouts in sequence order (deterministic mode may finish them out of order). */
  private async flushInOrder(): Promise<void> {
    while (this.pendingSends.has(this.nextSendSeq)) {
      const msg = this.pendingSends.get(this.nextSendSeq)!;
      this.pendingSends.delete(this.nextSendSeq);
      this.nextSendSeq++;
      this.segmentsSent++;
      await this.d.transport.send(msg);
    }
  }

  private noteLag(l: number): void {
    this.lagSum += l;
    this.lagN++;
    this.lagMin = Math.min(this.lagMin, l);
    this.lagMax = Math.max(this.lagMax, l);
  }

  /** Report every statsEveryMs until stopped. */
  private async statsLoop(): Promise<void> {
    while (!this.stopped) {
      await this.d.clock.sleep(Math.max(1, this.statsT0 + this.o.statsEveryMs - this.d.clock.now()), this.stopCtl.signal);
      if (!this.stopped && this.d.clock.now() - this.statsT0 >= this.o.statsEveryMs) this.reportStats();
    }
  }

  /** Log an `actor` record and send the same numbers to the learner (its `actor-stats` record). */
  private reportStats(): void {
    const now = this.d.clock.now();
    const fps = ((this.envSteps - this.statsSteps0) * 1000) / Math.max(1, now - this.statsT0);
    this.statsT0 = now;
    this.statsSteps0 = this.envSteps;
    const lagUsed = this.lagN ? { min: this.lagMin, mean: this.lagSum / this.lagN, max: this.lagMax } : { min: 0, mean: 0, max: 0 };
    this.o.logger.info({
      kind: 'actor',
      actorId: this.o.actorId,
      fps,
      segmentsSent: this.segmentsSent,
      versionsReceived: this.versionsReceived,
      lagUsed,
      envSteps: this.envSteps,
      clampedLag: this.clampedLag,
      buffered: this.backlog.length,
      bufferedTotal: this.buffered,
      bufferDropped: this.bufferDropped,
      lostInFlight: this.lostInFlight,
    });
    if (!this.linkUp()) return;
    void this.d.transport.send({
      type: MsgType.ActorStats,
      actorId: this.o.actorId,
      stats: {
        fps,
        segmentsSent: this.segmentsSent,
        versionsReceived: this.versionsReceived,
        lagMean: lagUsed.mean,
        envSteps: this.envSteps,
        // What never reached the learner: dropped from the outage buffer, or lost in flight.
        bufferedTotal: this.buffered,
        bufferDropped: this.bufferDropped,
        lostInFlight: this.lostInFlight,
      },
    });
  }
}

/**
 * A version's parameters as the history keeps them: a copy in shared memory, so that handing
 * them to a slot's worker thread passes a handle, not a 36 KB (at [64, 64]) structured clone per
 * segment. Never written after this: the thread may read it while the main thread goes on.
 */
function sharedCopy(a: Float32Array): Float32Array {
  const c = new Float32Array(new SharedArrayBuffer(a.byteLength));
  c.set(a);
  return c;
}
