/**
 * The wire messages between actors and the learner. These types are the only coupling
 * between the stages: the actor builds them, `codec.ts` turns them into bytes and back, and
 * `validate.ts` checks everything a decoder cannot trust (shapes, finiteness, model hash).
 *
 * Transport (see `transport.ts`): the learner binds a ROUTER socket, each actor connects a
 * DEALER socket. Actor -> learner: Hello, Rollout, ActorStats. Learner -> actor: Params
 * (pushed on every new version and on Hello), Ack (one per rollout taken into the intake
 * queue; actors keep at most `maxInFlight` unacknowledged rollouts, which is the backpressure).
 */

export const PROTOCOL_MAGIC = 0x49535250; // 'ISRP'
export const PROTOCOL_VERSION = 1;

export enum MsgType {
  Hello = 1,
  Rollout = 2,
  Params = 3,
  Ack = 4,
  ActorStats = 5,
  Reject = 6,
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
  /** Actions a_t, T * E. */
  actions: Int32Array;
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
}

/** A parameter version from the learner. */
export interface ParamsMsg {
  type: MsgType.Params;
  version: number;
  modelHash: number;
  params: Float32Array;
}

/**
 * An Ack with this seq acknowledges no rollout: with status 1 and a reason starting 'shutdown'
 * it is the learner's notice to every actor that it is stopping (actors stop collecting and
 * exit). Actor seqs count up from 0 and never reach it.
 */
export const NOTICE_SEQ = 0xffffffff;

/** The learner took rollout `seq` of this actor (into training or a counted drop), or a notice (NOTICE_SEQ). */
export interface AckMsg {
  type: MsgType.Ack;
  seq: number;
  /** The learner's current version at the time of the ack. */
  version: number;
  /** 0 = queued, 1 = dropped (reason in `reason`), 2 = rejected as invalid. */
  status: number;
  reason: string;
}

/** Learner -> actor: a message from this actor was refused (bad hello, bad bytes). */
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

export type Message = HelloMsg | RolloutMsg | ParamsMsg | AckMsg | RejectMsg | ActorStatsMsg;
