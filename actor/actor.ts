/**
 * An actor process: a DEALER socket to the learner plus W piscina pools of one worker thread
 * each (one per slot, so a slot's environments stay in its thread). Each slot loops:
 * wait for credit -> choose the behaviour version (newest held minus the injected lag) ->
 * collect a T-step segment in its thread -> send it as a Rollout with the next sequence number.
 *
 * Flow control: a slot may have `maxInFlight` unacknowledged rollouts; the learner acks a
 * rollout after the update that trained on it has published its new parameters (or at once
 * when it drops or rejects it), so with one in flight the natural lag is 0.
 * Deterministic mode: each slot has exactly `segmentsPerUpdate` in flight, segment j of slot w
 * gets sequence number j * W + w, and rollouts are sent in sequence order.
 */
import { Piscina } from 'piscina';
import type { Logger } from 'pino';
import { ActorSocket } from '../protocol/transport.js';
import { MsgType, type Message, type RolloutMsg } from '../protocol/messages.js';
import { validateParams } from '../protocol/validate.js';
import type { ModelSpec } from '../model/spec.js';
import { modelHash, paramCount } from '../model/params.js';
import { ParamHistory } from '../model/history.js';
import { Rng } from '../model/rng.js';
import { mix32 } from '../model/hash.js';
import { envSpecOf } from './envs/registry.js';
import { sampleLag, type LagSpec } from './lag.js';
import { actorWorkerFile } from './workerFile.js';
import type { CollectTask } from './worker.js';
import { unpackSegment } from './segmentPack.js';

export interface ActorOptions {
  actorId: number;
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
  /** Exit when the learner has been silent this long (ms). */
  idleTimeoutMs: number;
  logger: Logger;
}

interface Slot {
  pool: Piscina<CollectTask, Uint8Array>;
  inFlight: number;
  j: number;
  rng: Rng;
  seed: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Actor {
  private readonly history: ParamHistory;
  private readonly slots: Slot[] = [];
  private socket: ActorSocket | null = null;
  private stopped = false;
  private readonly waiters = new Set<() => void>();
  private lastHeard = Date.now();
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

  constructor(private readonly o: ActorOptions) {
    this.history = new ParamHistory(o.historyVersions);
  }

  /** Run until `stop()` or a fatal error (rejects with it: a Reject from the learner, a silent learner). */
  async run(): Promise<void> {
    const o = this.o;
    const env = envSpecOf(o.envId);
    this.socket = await ActorSocket.connect(o.endpoint);
    const filename = actorWorkerFile('worker');
    for (let w = 0; w < o.workers; w++) {
      const seed = mix32(o.seed * 1_000_003 + o.actorId * 1009 + w + 1);
      this.slots.push({
        pool: new Piscina<CollectTask, Uint8Array>({ filename, minThreads: 1, maxThreads: 1, idleTimeout: Infinity }),
        inFlight: 0, j: 0, rng: new Rng(mix32(seed ^ 0x9e3779b9)), seed,
      });
    }
    const receiving = this.receive();
    const hello: Message = { type: MsgType.Hello, actorId: o.actorId, envId: o.envId, obsDim: env.obsDim, nActions: env.nActions, numEnvs: o.workers * o.envsPerWorker, modelHash: modelHash(o.modelSpec) };
    // Hello until the first parameters arrive: a send can succeed without reaching anyone.
    while (!this.stopped && this.history.latest < 0) {
      await this.socket.send(hello);
      await this.waitFor(1000);
      this.checkFatal();
    }
    const stats = setInterval(() => this.reportStats(), o.statsEveryMs);
    try {
      await Promise.all(this.slots.map((_, w) => this.slotLoop(w)));
      this.checkFatal();
    } finally {
      clearInterval(stats);
      this.reportStats();
      this.stopped = true;
      this.socket.close();
      await receiving;
      await Promise.all(this.slots.map((s) => s.pool.destroy()));
    }
  }

  /** Ask the loops to end after their current segment. */
  stop(): void {
    this.stopped = true;
    this.notify();
  }

  private checkFatal(): void {
    if (this.fatal) throw this.fatal;
  }

  private notify(): void {
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }

  /** Resolve after `ms` or at the next notify(), whichever comes first. */
  private waitFor(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => { clearTimeout(t); this.waiters.delete(done); resolve(); };
      const t = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  private async receive(): Promise<void> {
    const o = this.o;
    const count = paramCount(o.modelSpec);
    const hash = modelHash(o.modelSpec);
    for await (const r of this.socket!.incoming()) {
      this.lastHeard = Date.now();
      if (!r.ok) {
        o.logger.warn({ kind: 'bad-message', reason: r.reason }, 'message from learner rejected');
        continue;
      }
      const m = r.msg;
      if (m.type === MsgType.Params) {
        const bad = validateParams(m, { modelHash: hash, paramCount: count });
        if (bad) { o.logger.warn({ kind: 'bad-params', reason: bad }, 'parameters rejected'); continue; }
        this.history.add(m.version, m.params.slice());
        this.versionsReceived++;
      } else if (m.type === MsgType.Ack) {
        const w = this.seqToSlot.get(m.seq);
        if (w !== undefined) {
          this.seqToSlot.delete(m.seq);
          this.slots[w].inFlight--;
        }
        if (m.status === 1 && m.reason.startsWith('shutdown')) {
          o.logger.info({ kind: 'learner-stopping' }, 'the learner is stopping; this actor stops too');
          this.stop();
        } else if (m.status !== 0) o.logger.warn({ kind: 'rollout-not-trained', seq: m.seq, status: m.status, reason: m.reason }, 'learner did not train a rollout');
      } else if (m.type === MsgType.Reject) {
        this.fatal = new Error(`learner rejected actor ${o.actorId}: ${m.reason}`);
        this.stop();
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
      if (slot.inFlight >= this.credit()) {
        await this.waitFor(200);
        if (Date.now() - this.lastHeard > o.idleTimeoutMs) {
          this.fatal = new Error(`learner at ${o.endpoint} silent for ${Math.round((Date.now() - this.lastHeard) / 1000)} s; exiting`);
          this.stop();
        }
        continue;
      }
      const k = sampleLag(o.lag, slot.rng);
      const latest = this.history.latest;
      let version = Math.max(0, latest - k);
      if (!this.history.has(version)) { version = this.history.oldest; this.clampedLag++; }
      const params = this.history.get(version)!;
      const seg = unpackSegment(await slot.pool.run({ envId: o.envId, numEnvs: o.envsPerWorker, seed: slot.seed, modelSpec: o.modelSpec, params, T: o.segmentSteps }));
      if (o.actorDelayMs > 0) await sleep(o.actorDelayMs);
      const seq = o.deterministicSegmentsPerSlot > 0 ? slot.j * o.workers + w : this.nextSeq++;
      slot.j++;
      slot.inFlight++;
      this.seqToSlot.set(seq, w);
      this.noteLag(latest - version);
      this.envSteps += seg.T * seg.E;
      this.pendingSends.set(seq, { type: MsgType.Rollout, actorId: o.actorId, seq, workerId: w, behaviourVersion: version, ...seg });
      await this.flushInOrder();
    }
  }

  /** Send buffered rollouts in sequence order (deterministic mode may finish them out of order). */
  private async flushInOrder(): Promise<void> {
    while (this.pendingSends.has(this.nextSendSeq)) {
      const msg = this.pendingSends.get(this.nextSendSeq)!;
      this.pendingSends.delete(this.nextSendSeq);
      this.nextSendSeq++;
      this.segmentsSent++;
      await this.socket!.send(msg);
    }
  }

  private noteLag(l: number): void {
    this.lagSum += l; this.lagN++;
    this.lagMin = Math.min(this.lagMin, l); this.lagMax = Math.max(this.lagMax, l);
  }

  private statsT0 = Date.now();
  private statsSteps0 = 0;

  private reportStats(): void {
    const now = Date.now();
    const fps = ((this.envSteps - this.statsSteps0) * 1000) / Math.max(1, now - this.statsT0);
    this.statsT0 = now; this.statsSteps0 = this.envSteps;
    const lagUsed = this.lagN ? { min: this.lagMin, mean: this.lagSum / this.lagN, max: this.lagMax } : { min: 0, mean: 0, max: 0 };
    this.o.logger.info({ kind: 'actor', actorId: this.o.actorId, fps, segmentsSent: this.segmentsSent, versionsReceived: this.versionsReceived, lagUsed, envSteps: this.envSteps, clampedLag: this.clampedLag });
    void this.socket?.send({ type: MsgType.ActorStats, actorId: this.o.actorId, stats: { fps, segmentsSent: this.segmentsSent, versionsReceived: this.versionsReceived, lagMean: lagUsed.mean, envSteps: this.envSteps } });
  }
}
