/**
 * The wire messages between actors and the learner. These types are the only coupling
 * between the stages: the actor builds them, `codec.ts` turns them into bytes and back, and
 * `validate.ts` checks everything a decoder cannot trust (shapes, finiteness, model hash).
 *
 * Transport (see `transport.ts`): the learner binds a ROUTER socket, each actor connects a
 * DEALER socket. Actor -> learner: Hello, Rollout, ActorStats (logged by the learner as an
 * `actor-stats` record), Heartbeat (liveness). Learner -> actor: Params (on Hello, and the newest version just before an ack when the actor lacks it),
 * Ack (exactly one per rollout: trained, dropped with a reason or rejected with a code; actors
 * keep at most `maxInFlight` unacknowledged rollouts, which is the backpressure), Reject (a
 * refused hello), Stop (the learner is stopping: actors stop collecting and exit).
 */
import type { ProtocolErrorCode } from './errors.js';

export const PROTOCOL_MAGIC = 0x49535250; // 'ISRP'
/**
 * 4: a message may be several frames (the head's frame mask, offset 12, reserved 0 before,
 * names the sections that travel as their own frames), and params carry the learner's run id;
 * 3: hello carries an incarnation id, and the Heartbeat message; 2: typed acks (status +
 * reason/code index) and the Stop message; 1 had magic-number notices. A peer of another
 * version is refused with BAD_VERSION naming both.
 */
export const PROTOCOL_VERSION = 4;

export enum MsgType {
  Hello = 1,
  Rollout = 2,
  Params = 3,
  Ack = 4,
  ActorStats = 5,
  Reject = 6,
  Stop = 7,
  Heartbeat = 8,
}

/** First message of an actor: who it is and what it runs. */
export interface HelloMsg {
  type: MsgType.Hello;
  actorId: number;
  /** Environment id, e.g. 'CartPole-v1'. */
  envId: string;
  obsDim: number;
  nActions: number;
  /** Total environments stepped by this actor (workers x envs per worker). */
  numEnvs: number;
  /** `modelHash(modelSpec)`; must equal the learner's. */
  modelHash: number;
  /**
   * Random u32 drawn once per actor start (and again when the actor re-joins a restarted
   * learner): a new incarnation's sequence numbers start afresh at 0.
   */
  incarnation: number;
}

/** Actor -> learner every --heartbeat-ms: this peer is alive (the learner drops silent peers). */
export interface HeartbeatMsg {
  type: MsgType.Heartbeat;
  actorId: number;
  incarnation: number;
}

/**
 * One T-step segment of E environments, collected with one behaviour parameter version.
 * Arrays are time-major: index t * E + e (obs: (t * E + e) * obsDim + k).
 */
export interface RolloutMsg {
  type: MsgType.Rollout;
  actorId: number;
  /** Per-actor sequence number, starting at 0 and increasing by one; gaps count as lost. */
  seq: number;
  /** Worker thread that collected it (diagnostics only). */
  workerId: number;
  /** The learner version of the behaviour parameters mu that acted. */
  behaviourVersion: number;
  /** Steps per environment T. */
  T: number;
  /** Environments E. */
  E: number;
  obsDim: number;
  /** Observations s_t, T * E * obsDim. */
  obs: Float32Array;
  /** Observation after the last step of each environment, E * obsDim (bootstrap). */
  lastObs: Float32Array;
  /** Discrete actions a_t, T * E; empty when the env's actions are a box (see `boxActions`). */
  actions: Int32Array;
  /**
   * Box (continuous) actions a_t as sampled by the Gaussian policy, unclipped, T * E * A
   * float32 (A = the box's dimension); absent for discrete envs. On the wire: the rollout's
   * `actionDim` field (0 = discrete) and one float32 section.
   */
  boxActions?: Float32Array;
  /** Rewards r_t, T * E. */
  rewards: Float32Array;
  /** 1 where the episode terminated at step t (no bootstrap), T * E. */
  terminated: Uint8Array;
  /** 1 where the episode was truncated at step t (bootstrap from the final observation), T * E. */
  truncated: Uint8Array;
  /** Final observations of truncated steps, in time-major order of the truncated flags, nTruncated * obsDim. */
  finalObs: Float32Array;
  /** log mu(a_t | s_t), recorded when acting, T * E. */
  logmu: Float32Array;
  /** Returns of episodes that finished inside this segment. */
  episodeReturns: Float32Array;
  /** Lengths of episodes that finished inside this segment (same order). */
  episodeLengths: Int32Array;
  /**
   * Who wrote each environment's actions, E: 0 = the policy (behaviour parameters), 1 = the
   * teacher (sequence tasks, `--behaviour teacher | mix:P`). Absent = all policy (encoded as zeros).
   */
  source?: Uint8Array;
}

/** The typed-array fields of a RolloutMsg (the optional ones last). */
export const ROLLOUT_ARRAY_KEYS = [
  'obs',
  'lastObs',
  'actions',
  'rewards',
  'terminated',
  'truncated',
  'finalObs',
  'logmu',
  'episodeReturns',
  'episodeLengths',
  'boxActions',
  'source',
] as const satisfies readonly (keyof RolloutMsg)[];

/** A parameter version from the learner. */
export interface ParamsMsg {
  type: MsgType.Params;
  version: number;
  modelHash: number;
  params: Float32Array;
  /** The learner's run id (an actor names its log folder after it); absent when empty on the wire. */
  runId?: string;
}

/** What became of a rollout, as the learner answers it. */
export enum AckStatus {
  /** Trained on: the update that used it has published its parameters. */
  Trained = 0,
  /** Valid but not trained on (`drop` says why). */
  Dropped = 1,
  /** Invalid (`code` says why); counted in the learner's rejectReasons under the same code. */
  Rejected = 2,
}

/** Why a valid rollout was not trained on. The wire carries the index into this list (append only). */
export const DROP_REASONS = ['stale', 'duplicate', 'queue-full', 'shutdown', 'non-finite-gradient'] as const;
export type DropReason = (typeof DROP_REASONS)[number];

interface AckBase {
  type: MsgType.Ack;
  /** The acknowledged rollout's sequence number. */
  seq: number;
  /** The learner's current version at the time of the ack. */
  version: number;
}

export interface TrainedAck extends AckBase {
  status: AckStatus.Trained;
}

export interface DroppedAck extends AckBase {
  status: AckStatus.Dropped;
  drop: DropReason;
  /** Human-readable detail, e.g. 'stale: lag 9 > --max-lag 8'. */
  detail: string;
}

export interface RejectedAck extends AckBase {
  status: AckStatus.Rejected;
  code: ProtocolErrorCode;
  /** `CODE: detail`, naming the field and the bad value. */
  reason: string;
}

/** The learner's answer to one rollout of this actor: exactly one per rollout received. */
export type AckMsg = TrainedAck | DroppedAck | RejectedAck;

/** Learner -> every actor: the learner is stopping; stop collecting and exit. */
export interface StopMsg {
  type: MsgType.Stop;
  /** The learner's final version. */
  version: number;
  /** Why the learner stops, e.g. 'step budget 2048 reached'. */
  reason: string;
}

/** Learner -> actor: this actor's hello was refused (model hash, environment); the actor exits. */
export interface RejectMsg {
  type: MsgType.Reject;
  reason: string;
}

/** Periodic actor statistics, a small JSON object (fps, segments sent, lag used, ...). */
export interface ActorStatsMsg {
  type: MsgType.ActorStats;
  actorId: number;
  stats: Record<string, number>;
}

export type Message = HelloMsg | RolloutMsg | ParamsMsg | AckMsg | RejectMsg | ActorStatsMsg | StopMsg | HeartbeatMsg;
