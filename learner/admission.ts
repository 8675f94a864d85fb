/**
 * Who may send what to the learner: the registry of actors (one per peer, announced by a valid
 * Hello) and the admission checks of every message that names an actor. A refusal carries one
 * protocol error code, and the reason text starts with that same code, so the code counted in
 * rejectReasons is the code answered to the actor. Drop decisions (stale, shutdown) for valid
 * rollouts are made here too; duplicates and a full queue are the intake's.
 */
import type { EnvSpec } from '../model/spec.js';
import { reason, reasonCode, type ProtocolErrorCode } from '../protocol/errors.js';
import type { ActorStatsMsg, DropReason, HelloMsg, RolloutMsg } from '../protocol/messages.js';
import { validateHello, validateRollout } from '../protocol/validate.js';

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
}

/** The outcome of a Hello: refused, or registered (`joined` is false for a repeated hello). */
export type HelloVerdict = { ok: true; joined: boolean } | ({ ok: false } & Refusal);

export interface AdmissionOptions {
  /** modelHash of the learner's model spec. */
  modelHash: number;
  env: EnvSpec;
  /** Asynchronous mode: rollouts lagging more than this are dropped as stale (-1 = never). */
  maxLag: number;
  /** Deterministic mode never drops stale rollouts (every scheduled rollout must be trained on). */
  deterministic: boolean;
}

/** A refusal from a validator's reason string (always `CODE: detail`; INTERNAL if it is not). */
export function refusalOf(r: string): Refusal {
  const code = reasonCode(r);
  return code ? { code, reason: r } : { code: 'INTERNAL', reason: reason('INTERNAL', r) };
}

export class Admission {
  private readonly byPeer = new Map<string, ActorEntry>();

  constructor(private readonly o: AdmissionOptions) {}

  /** Registered actors, one per peer. */
  get actors(): ActorEntry[] {
    return [...this.byPeer.values()];
  }

  /** The actor registered for `peer`, if any. */
  actorOf(peer: Buffer): ActorEntry | undefined {
    return this.byPeer.get(peer.toString('hex'));
  }

  /**
   * Check a Hello against the learner's model and environment and register its peer. A new peer
   * with an actor id already registered replaces the old peer (the actor reconnected).
   */
  hello(peer: Buffer, m: HelloMsg): HelloVerdict {
    const bad = validateHello(m, { modelHash: this.o.modelHash, env: this.o.env });
    if (bad) return { ok: false, ...refusalOf(bad) };
    const key = peer.toString('hex');
    if (this.byPeer.has(key)) return { ok: true, joined: false };
    for (const [k, a] of this.byPeer) if (a.actorId === m.actorId) this.byPeer.delete(k);
    this.byPeer.set(key, { actorId: m.actorId, peer });
    return { ok: true, joined: true };
  }

  /** The refusal of a message naming `actorId` from `peer`, or null when the peer said hello as that actor. */
  private sender(peer: Buffer, actorId: number, what: string): Refusal | null {
    const actor = this.actorOf(peer);
    if (!actor) return { code: 'UNKNOWN_ACTOR', reason: reason('UNKNOWN_ACTOR', `${what} from a peer that sent no valid hello`) };
    if (actor.actorId !== actorId) return { code: 'BAD_ACTOR_ID', reason: reason('BAD_ACTOR_ID', `${what}.actorId ${actorId} differs from the hello's ${actor.actorId}`) };
    return null;
  }

  /** Null when the rollout may enter the intake, or why it is refused (unknown actor, wrong id, invalid, from the future). */
  rollout(peer: Buffer, m: RolloutMsg, learnerVersion: number): Refusal | null {
    const bad = this.sender(peer, m.actorId, 'rollout') ?? validateRollout(m, this.o.env);
    if (bad !== null) return typeof bad === 'string' ? refusalOf(bad) : bad;
    if (m.behaviourVersion > learnerVersion) {
      return { code: 'FUTURE_VERSION', reason: reason('FUTURE_VERSION', `rollout.behaviourVersion ${m.behaviourVersion} is newer than the learner's ${learnerVersion}`) };
    }
    return null;
  }

  /** Null when the stats come from the actor they name. */
  stats(peer: Buffer, m: ActorStatsMsg): Refusal | null {
    return this.sender(peer, m.actorId, 'actorStats');
  }

  /** Whether an admitted rollout of lag `lag` is dropped instead of queued. */
  dropFor(lag: number, stopping: boolean): DropDecision | null {
    if (stopping) return { drop: 'shutdown', detail: 'shutdown: the learner is stopping' };
    if (!this.o.deterministic && this.o.maxLag >= 0 && lag > this.o.maxLag) return { drop: 'stale', detail: `stale: lag ${lag} > --max-lag ${this.o.maxLag}` };
    return null;
  }
}
