/**
 * The learner's intake: every rollout that reaches the learner is accounted for, exactly once,
 * as trained, dropped (with a reason) or rejected (with a code); sequence gaps per actor are
 * counted as lost, once: only a gap of at most `maxSeqGap` counts (`seqRefusal` refuses a larger
 * jump, so a forged seq of 2^32 - 2 cannot inflate `lost`), a rejected rollout's number is
 * noted by `skip()` (it is counted as rejected, not also as lost), and a late rollout whose
 * number was counted lost is taken off `lost` when it arrives. A new incarnation of an actor
 * (`resetSeq`) starts its sequence numbers afresh. Accepted rollouts wait in a bounded queue (asynchronous mode, FIFO) or in a
 * keyed buffer (deterministic mode: update u takes exactly the sequence numbers it is due).
 */
import type { DropReason, RolloutMsg } from '../protocol/messages.js';
import { WOKEN, wallClock, type Clock } from '../protocol/clock.js';
import type { RolloutAccounting } from '../protocol/records.js';

export interface QueuedRollout {
  msg: RolloutMsg;
  peer: Buffer;
}

/** The rollout accounting of protocol/records.ts (one declaration), plus the rollouts still waiting. */
export interface IntakeCounts extends RolloutAccounting {
  /** Rollouts accepted and not yet trained or dropped. */
  pending: number;
}

/** Default largest forward jump of a sequence number (far above any in-flight window). */
export const DEFAULT_MAX_SEQ_GAP = 4096;

/**
 * The intake's per-actor limits for a run: an actor holds at most `workers x maxInFlight`
 * unacknowledged rollouts (its credit window, actor/loop.ts), so at most that many may wait at
 * the learner per peer, and no honest sequence gap is larger. Without maxInFlight in the
 * config: DEFAULT_MAX_SEQ_GAP and no per-peer limit.
 */
export function intakeLimits(c: { workers: number; maxInFlight?: number }): { maxSeqGap: number; perPeer: number } {
  const m = c.maxInFlight;
  if (!(typeof m === 'number' && m >= 1 && c.workers >= 1)) return { maxSeqGap: DEFAULT_MAX_SEQ_GAP, perPeer: Infinity };
  const window = c.workers * m;
  return { maxSeqGap: window, perPeer: window };
}

export class Intake {
  private readonly fifo: QueuedRollout[] = [];
  private readonly keyed = new Map<string, QueuedRollout>();
  private readonly nextSeq = new Map<number, number>();
  /** After a learner resume: each actor's first sequence number is its start (actors that outlived the learner carry on counting). */
  private firstSeqIsStart = false;
  /** Per actor, the sequence numbers counted as lost that may still arrive late (at most maxSeqGap). */
  private readonly lostSeqs = new Map<number, Set<number>>();
  private readonly waiters = new Set<() => void>();
  /** Rollouts waiting, per peer (routing id in hex): at most `perPeer` each. */
  private readonly perPeerPending = new Map<string, number>();
  readonly counts: IntakeCounts = {
    received: 0,
    trained: 0,
    dropped: 0,
    rejected: 0,
    lost: 0,
    pending: 0,
    dropReasons: {},
    rejectReasons: {},
  };

  /**
   * @param capacity most rollouts held at once; more are dropped with reason 'queue-full'.
   * @param maxSeqGap largest forward jump of an actor's sequence number (default 4096).
   */
  constructor(
    readonly capacity: number,
    readonly deterministic: boolean,
    readonly maxSeqGap = DEFAULT_MAX_SEQ_GAP,
    readonly perPeer = Infinity,
  ) {}

  /**
   * Null when `peer` may queue one more rollout, or an IN_FLIGHT_LIMIT detail: an actor cannot
   * hold more of the queue than its credit window, so one peer cannot push out the others'.
   */
  inFlightRefusal(peer: Buffer): string | null {
    const n = this.perPeerPending.get(peer.toString('hex')) ?? 0;
    return n >= this.perPeer
      ? `${n} rollouts of this actor wait unacknowledged at the learner, its credit window is ${this.perPeer}`
      : null;
  }

  private pendingDelta(peer: Buffer, d: number): void {
    const k = peer.toString('hex');
    const n = (this.perPeerPending.get(k) ?? 0) + d;
    if (n <= 0) this.perPeerPending.delete(k);
    else this.perPeerPending.set(k, n);
  }

  /** Null when `seq` of `actorId` is within the allowed window, or why not (a SEQ_GAP detail). */
  seqRefusal(actorId: number, seq: number): string | null {
    const gap = seq - (this.nextSeq.get(actorId) ?? 0);
    return gap > this.maxSeqGap ? `rollout.seq ${seq} jumps ${gap} ahead of the next expected ${seq - gap}, max ${this.maxSeqGap}` : null;
  }

  /** A rejected rollout of `actorId` used `seq`: later numbers do not count it as lost. */
  skip(actorId: number, seq: number): void {
    const expected = this.nextSeq.get(actorId) ?? 0;
    if (seq >= expected && seq - expected <= this.maxSeqGap) {
      this.noteLost(actorId, expected, seq);
      this.nextSeq.set(actorId, seq + 1);
    }
  }

  /** A new incarnation of `actorId`: its sequence numbers start again at 0. */
  resetSeq(actorId: number): void {
    this.nextSeq.delete(actorId);
    this.lostSeqs.delete(actorId);
  }

  /** Count seqs [from, to) as lost, remembering them (bounded) in case they arrive late. */
  private noteLost(actorId: number, from: number, to: number): void {
    if (to <= from) return;
    this.counts.lost += to - from;
    let set = this.lostSeqs.get(actorId);
    if (!set) this.lostSeqs.set(actorId, (set = new Set()));
    for (let q = from; q < to; q++) set.add(q);
    while (set.size > this.maxSeqGap) set.delete(set.values().next().value!);
  }

  get depth(): number {
    return this.deterministic ? this.keyed.size : this.fifo.length;
  }

  /** Count a message that failed decoding or validation. */
  reject(reasonCode: string): void {
    this.counts.received++;
    this.counts.rejected++;
    this.counts.rejectReasons[reasonCode] = (this.counts.rejectReasons[reasonCode] ?? 0) + 1;
  }

  /** Count a valid rollout that will not be trained on. */
  drop(reason: DropReason): void {
    this.counts.dropped++;
    this.counts.dropReasons[reason] = (this.counts.dropReasons[reason] ?? 0) + 1;
  }

  /**
   * Offer a validated rollout. `dropReason` (e.g. 'stale', 'shutdown') drops it after its
   * sequence number is accounted for. Returns null when queued, or the drop reason (also
   * 'duplicate', 'queue-full') when it was counted as dropped. Sequence gaps count as lost.
   */
  offer(r: QueuedRollout, dropReason: DropReason | null = null): DropReason | null {
    this.counts.received++;
    const { actorId, seq } = r.msg;
    const fresh = this.firstSeqIsStart && !this.nextSeq.has(actorId);
    const expected = fresh ? seq : (this.nextSeq.get(actorId) ?? 0);
    if (seq < expected) {
      const lost = this.lostSeqs.get(actorId);
      if (!lost?.delete(seq)) {
        this.drop('duplicate');
        return 'duplicate';
      }
      this.counts.lost--; // late, not lost: it is counted once, below
    } else {
      this.noteLost(actorId, expected, seq);
      this.nextSeq.set(actorId, seq + 1);
    }
    if (dropReason !== null) {
      this.drop(dropReason);
      return dropReason;
    }
    if (this.depth >= this.capacity) {
      this.drop('queue-full');
      return 'queue-full';
    }
    if (this.deterministic) this.keyed.set(`${actorId}/${seq}`, r);
    else this.fifo.push(r);
    this.counts.pending++;
    this.pendingDelta(r.peer, 1);
    for (const w of [...this.waiters]) w();
    return null;
  }

  /** Asynchronous mode: take the oldest `b` rollouts, or null if fewer are queued. */
  takeFifo(b: number): QueuedRollout[] | null {
    if (this.fifo.length < b) return null;
    const out = this.fifo.splice(0, b);
    this.counts.pending -= out.length;
    for (const q of out) this.pendingDelta(q.peer, -1);
    return out;
  }

  /** Deterministic mode: take exactly `keys` ([actorId, seq]) in that order, or null if any is missing. */
  takeKeys(keys: Array<[number, number]>): QueuedRollout[] | null {
    for (const [a, s] of keys) if (!this.keyed.has(`${a}/${s}`)) return null;
    const out = keys.map(([a, s]) => {
      const k = `${a}/${s}`;
      const r = this.keyed.get(k)!;
      this.keyed.delete(k);
      return r;
    });
    this.counts.pending -= out.length;
    for (const q of out) this.pendingDelta(q.peer, -1);
    return out;
  }

  /** The learner resumed from a checkpoint: gaps before each actor's first rollout are not counted as lost. */
  resumed(): void {
    this.firstSeqIsStart = true;
  }

  /** Mark rollouts as trained on. */
  trained(n: number): void {
    this.counts.trained += n;
  }

  /** Rollouts taken for an update that was not trained on (e.g. 'non-finite-gradient'): dropped, with that reason. */
  untrained(n: number, why: DropReason): void {
    for (let i = 0; i < n; i++) this.drop(why);
  }

  /** Drop everything still queued (at shutdown), with reason 'shutdown'. Returns them. */
  drain(): QueuedRollout[] {
    const all = [...this.fifo, ...this.keyed.values()];
    this.fifo.length = 0;
    this.keyed.clear();
    this.perPeerPending.clear();
    for (let i = 0; i < all.length; i++) this.drop('shutdown');
    this.counts.pending = 0;
    return all;
  }

  /** Resolve when something is offered, at wakeAll(), or after `ms` of `clock` (default: the wall clock). */
  async wait(ms: number, clock: Clock = wallClock): Promise<void> {
    const ac = new AbortController();
    const done = () => ac.abort(WOKEN);
    this.waiters.add(done);
    try {
      await clock.sleep(ms, ac.signal);
    } finally {
      this.waiters.delete(done);
    }
  }

  /** Wake waiters (e.g. at shutdown). */
  wakeAll(): void {
    for (const w of [...this.waiters]) w();
  }
}
