/**
 * Who may send what to the learner: the registry of actors (one per peer, announced by a valid
 * Hello) and the admission checks of every message that names an actor. A refusal carries one
 * protocol error code, and the reason text starts with that same code, so the code counted in
 * rejectReasons is the code answered to the actor. Drop decisions (stale, shutdown) for valid
 * rollouts are made here too; duplicates and a full queue are the intake's.
 *
 * Rules against hostile or confused peers:
 * - an actor id is admitted only inside 0..actors-1, and only one live peer holds it: a hello
 *   with an id held by another peer is refused (ACTOR_ID_IN_USE) unless the holder has been
 *   silent for `missedHeartbeats` heartbeat intervals, in which case the new peer replaces it;
 * - each hello names an incarnation (a random u32 per actor start): a new incarnation starts
 *   its sequence numbers afresh (`joined.newIncarnation`, the loop resets the intake's seq);
 * - hellos are rate-limited per peer (`helloIntervalMs`); the times are kept for a bounded
 *   number of peers;
 * - rollouts must have the run's shapes (T, E, obsDim), rewards inside the env's reward range
 *   and episode returns and lengths that agree with their rewards (protocol/validate.ts);
 * - peers silent for `missedHeartbeats` intervals are dropped by `expire()` (so they leave the
 *   publish list).
 */
import type { EnvSpec } from '../model/spec.js';
import { reason, reasonCode, type ProtocolErrorCode } from '../protocol/errors.js';
import type { ActorStatsMsg, DropReason, HeartbeatMsg, HelloMsg, RolloutMsg } from '../protocol/messages.js';
import { validateEpisodes, validateHello, validateRewards, validateRollout } from '../protocol/validate.js';

/** Why a message was refused: one code, and `CODE: detail` with that code. */
export interface Refusal {
  code: ProtocolErrorCode;
  reason: string;
}

/** A valid rollout that will not be trained on, and the detail sent back with its ack. */
export interface DropDecision {
  drop: DropReason;
  detail: string;
}

export interface ActorEntry {
  actorId: number;
  peer: Buffer;
  incarnation: number;
  /** Clock time of the last message from this peer. */
  lastSeen: number;
  /** Actor-stats token bucket (STATS_BURST tokens, one more every STATS_INTERVAL_MS). */
  statsTokens?: number;
  statsAt?: number;
}

/**
 * The outcome of a Hello: refused, or registered. `joined` is false for a repeated hello of the
 * same incarnation; `newIncarnation` is true when this incarnation's sequence numbers start
 * afresh; `replaced` names a silent holder of the id that this peer replaced.
 */
export type HelloVerdict = { ok: true; joined: boolean; newIncarnation: boolean; replaced?: ActorEntry } | ({ ok: false } & Refusal);

export interface AdmissionOptions {
  /** modelHash of the learner's model spec. */
  modelHash: number;
  env: EnvSpec;
  /** Asynchronous mode: rollouts lagging more than this are dropped as stale (-1 = never). */
  maxLag: number;
  /** Deterministic mode never drops stale rollouts (every scheduled rollout must be trained on). */
  deterministic: boolean;
  /** Actor ids admitted: 0..actors-1. */
  actors: number;
  /** The run's rollout shape: steps per environment T and environments per rollout E. */
  segmentSteps: number;
  envsPerWorker: number;
  /** Actors send a heartbeat this often, ms. */
  heartbeatMs: number;
  /** A peer silent for this many heartbeat intervals is dropped (and its id may be taken). */
  missedHeartbeats?: number;
  /** Hellos from one peer closer together than this are refused as RATE_LIMITED, ms. */
  helloIntervalMs?: number;
}

/** Defaults of the optional options. */
export const MISSED_HEARTBEATS = 5;
export const HELLO_INTERVAL_MS = 250;
/** Actor stats (logged as they come): one per STATS_INTERVAL_MS per actor, bursts of STATS_BURST (`actor` sends one every 2 s; a flood is cut to 5 a second). */
export const STATS_INTERVAL_MS = 200;
export const STATS_BURST = 5;
/** Peers whose last hello time is remembered for the rate limit (oldest forgotten first). */
const HELLO_TIMES_KEPT = 4096;

/** A refusal from a validator's reason string (always `CODE: detail`; INTERNAL if it is not). */
export function refusalOf(r: string): Refusal {
  const code = reasonCode(r);
  return code ? { code, reason: r } : { code: 'INTERNAL', reason: reason('INTERNAL', r) };
}

const refusal = (code: ProtocolErrorCode, detail: string): Refusal => ({ code, reason: reason(code, detail) });

export class Admission {
  private readonly byPeer = new Map<string, ActorEntry>();
  private readonly byId = new Map<number, string>();
  private readonly helloTimes = new Map<string, number>();
  private readonly missed: number;
  private readonly helloIntervalMs: number;

  constructor(private readonly o: AdmissionOptions) {
    this.missed = o.missedHeartbeats ?? MISSED_HEARTBEATS;
    this.helloIntervalMs = o.helloIntervalMs ?? HELLO_INTERVAL_MS;
  }

  /** Registered actors, one per peer. */
  get actors(): ActorEntry[] {
    return [...this.byPeer.values()];
  }

  /** The actor registered for `peer`, if any. */
  actorOf(peer: Buffer): ActorEntry | undefined {
    return this.byPeer.get(peer.toString('hex'));
  }

  /** How long a peer may be silent before it is dropped, ms. */
  get silenceLimitMs(): number {
    return this.o.heartbeatMs * this.missed;
  }

  private alive(a: ActorEntry, now: number): boolean {
    return now - a.lastSeen <= this.silenceLimitMs;
  }

  private rateLimited(key: string, now: number): boolean {
    const last = this.helloTimes.get(key);
    if (last !== undefined && now - last < this.helloIntervalMs) return true;
    this.helloTimes.delete(key);
    this.helloTimes.set(key, now);
    if (this.helloTimes.size > HELLO_TIMES_KEPT) this.helloTimes.delete(this.helloTimes.keys().next().value!);
    return false;
  }

  private remove(key: string): void {
    const a = this.byPeer.get(key);
    if (!a) return;
    this.byPeer.delete(key);
    if (this.byId.get(a.actorId) === key) this.byId.delete(a.actorId);
  }

  /**
   * Check a Hello against the learner's model, environment and actor count, and register its
   * peer. `now` is the loop clock's time.
   */
  hello(peer: Buffer, m: HelloMsg, now: number): HelloVerdict {
    const key = peer.toString('hex');
    if (this.rateLimited(key, now))
      return { ok: false, ...refusal('RATE_LIMITED', `hello less than ${this.helloIntervalMs} ms after its previous one`) };
    const bad = validateHello(m, { modelHash: this.o.modelHash, env: this.o.env });
    if (bad) return { ok: false, ...refusalOf(bad) };
    if (m.actorId >= this.o.actors)
      return {
        ok: false,
        ...refusal('ACTOR_ID_RANGE', `hello.actorId is ${m.actorId}, this run admits 0..${this.o.actors - 1} (--actors ${this.o.actors})`),
      };
    const mine = this.byPeer.get(key);
    if (mine) {
      if (mine.actorId !== m.actorId)
        return {
          ok: false,
          ...refusal('BAD_ACTOR_ID', `hello.actorId ${m.actorId} differs from this peer's earlier hello as actor ${mine.actorId}`),
        };
      mine.lastSeen = now;
      if (mine.incarnation === m.incarnation) return { ok: true, joined: false, newIncarnation: false };
      mine.incarnation = m.incarnation;
      return { ok: true, joined: true, newIncarnation: true };
    }
    const holderKey = this.byId.get(m.actorId);
    const holder = holderKey === undefined ? undefined : this.byPeer.get(holderKey);
    if (holder && this.alive(holder, now)) {
      return {
        ok: false,
        ...refusal(
          'ACTOR_ID_IN_USE',
          `hello.actorId ${m.actorId} is held by a live peer (incarnation ${holder.incarnation.toString(16)}); give each actor its own --actor-id`,
        ),
      };
    }
    if (holderKey !== undefined) this.remove(holderKey);
    this.byPeer.set(key, { actorId: m.actorId, peer, incarnation: m.incarnation, lastSeen: now });
    this.byId.set(m.actorId, key);
    return holder
      ? { ok: true, joined: true, newIncarnation: holder.incarnation !== m.incarnation, replaced: holder }
      : { ok: true, joined: true, newIncarnation: true };
  }

  /** Note that `peer` is alive (any message from it). */
  touch(peer: Buffer, now: number): void {
    const a = this.actorOf(peer);
    if (a) a.lastSeen = now;
  }

  /**
   * The learner was busy for `ms` (its own update, which blocks the receive loop): that time
   * does not count as any actor's silence, so a learner's long update never makes a live actor
   * look dead (its heartbeats wait in the socket meanwhile).
   */
  excuse(ms: number, now: number): void {
    if (!(ms > 0)) return;
    for (const a of this.byPeer.values()) a.lastSeen = Math.min(now, a.lastSeen + ms);
  }

  /** Drop peers silent for more than `missedHeartbeats` intervals; returns them. */
  expire(now: number): ActorEntry[] {
    const gone: ActorEntry[] = [];
    for (const [k, a] of this.byPeer) {
      if (!this.alive(a, now)) {
        gone.push(a);
        this.remove(k);
      }
    }
    return gone;
  }

  /** The refusal of a message naming `actorId` from `peer`, or null when the peer said hello as that actor. */
  private sender(peer: Buffer, actorId: number, what: string): Refusal | null {
    const actor = this.actorOf(peer);
    if (!actor) return { code: 'UNKNOWN_ACTOR', reason: reason('UNKNOWN_ACTOR', `${what} from a peer that sent no valid hello`) };
    if (actor.actorId !== actorId)
      return {
        code: 'BAD_ACTOR_ID',
        reason: reason('BAD_ACTOR_ID', `${what}.actorId ${actorId} differs from the hello's ${actor.actorId}`),
      };
    return null;
  }

  /** Null when the rollout may enter the intake, or why it is refused (unknown actor, wrong id, wrong shape, invalid, from the future). */
  rollout(peer: Buffer, m: RolloutMsg, learnerVersion: number): Refusal | null {
    const who = this.sender(peer, m.actorId, 'rollout');
    if (who) return who;
    const { segmentSteps: T, envsPerWorker: E } = this.o;
    if (m.T !== T || m.E !== E)
      return refusal('SHAPE_MISMATCH', `rollout T x E is ${m.T} x ${m.E}, this run's is ${T} x ${E} (--segment-steps, --envs-per-worker)`);
    const bad = validateRollout(m, this.o.env) ?? validateRewards(m, this.o.env) ?? validateEpisodes(m, this.o.env);
    if (bad !== null) return refusalOf(bad);
    if (m.behaviourVersion > learnerVersion) {
      return {
        code: 'FUTURE_VERSION',
        reason: reason('FUTURE_VERSION', `rollout.behaviourVersion ${m.behaviourVersion} is newer than the learner's ${learnerVersion}`),
      };
    }
    return null;
  }

  /** Null when the stats come from the actor they name, within its rate (STATS_INTERVAL_MS, bursts of STATS_BURST). */
  stats(peer: Buffer, m: ActorStatsMsg, now = 0): Refusal | null {
    const bad = this.sender(peer, m.actorId, 'actorStats');
    if (bad) return bad;
    const a = this.actorOf(peer)!;
    const t = a.statsAt ?? now;
    const tokens = Math.min(STATS_BURST, (a.statsTokens ?? STATS_BURST) + (now - t) / STATS_INTERVAL_MS);
    a.statsAt = now;
    if (tokens < 1) {
      a.statsTokens = tokens;
      return refusal('RATE_LIMITED', `actorStats more often than one per ${STATS_INTERVAL_MS} ms (bursts of ${STATS_BURST})`);
    }
    a.statsTokens = tokens - 1;
    return null;
  }

  /** Null when the heartbeat comes from the actor and incarnation it names. */
  heartbeat(peer: Buffer, m: HeartbeatMsg): Refusal | null {
    const bad = this.sender(peer, m.actorId, 'heartbeat');
    if (bad) return bad;
    const a = this.actorOf(peer)!;
    return a.incarnation === m.incarnation
      ? null
      : refusal(
          'BAD_ACTOR_ID',
          `heartbeat.incarnation ${m.incarnation.toString(16)} differs from the hello's ${a.incarnation.toString(16)}`,
        );
  }

  /**
   * Whether a heartbeat from a peer the learner does not know is answered (with a Reject naming
   * UNKNOWN_ACTOR, so an actor of a learner that restarted joins again instead of waiting out
   * its idle timeout). At most one answer per peer per hello interval: a flood buys little.
   */
  answerUnknown(peer: Buffer, now: number): boolean {
    return !this.rateLimited(`u:${peer.toString('hex')}`, now);
  }

  /** Whether an admitted rollout of lag `lag` is dropped instead of queued. */
  dropFor(lag: number, stopping: boolean): DropDecision | null {
    if (stopping) return { drop: 'shutdown', detail: 'shutdown: the learner is stopping' };
    if (!this.o.deterministic && this.o.maxLag >= 0 && lag > this.o.maxLag)
      return { drop: 'stale', detail: `stale: lag ${lag} > --max-lag ${this.o.maxLag}` };
    return null;
  }

  /** Fields naming `peer` in a log line: its actor id and incarnation when registered, else its routing id in hex. */
  peerFields(peer: Buffer): Record<string, unknown> {
    const a = this.actorOf(peer);
    return a ? { peerActorId: a.actorId, incarnation: a.incarnation.toString(16) } : { peer: peer.toString('hex').slice(0, 64) };
  }
}
