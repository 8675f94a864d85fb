/**
 * What the learner's loop is given from outside: the transport, the evaluator, the learner, the
 * logger and the checkpoint store. learner/server.ts wires the real ones (ZeroMQ, worker-thread
 * evaluator, Learner, pino, CheckpointStore); tests wire the fakes of test/unit/learner/fakes.ts.
 */
import type { Incoming } from '../protocol/transport.js';
import type { Message } from '../protocol/messages.js';
import type { EvalStat } from '../protocol/records.js';
import type { UpdateStats } from './learner.js';
import type { TrainingSegment } from './batch.js';
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

/** Where the loop's checkpoints go. */
export interface LoopCheckpointer {
  /** Updates between checkpoints (0: not by count). */
  every: number;
  /** Seconds between checkpoints (0 or absent: not by time). */
  seconds?: number;
  /** Save the learner's state together with `loop`'s; returns the file and its size in bytes. */
  save(loop: LoopState, final: boolean): { file: string; bytes: number };
}

export interface LoopResume {
  state: LoopState;
  /** The checkpoint's version and file; the learner's version may be higher (versions are never reused). */
  fromVersion: number;
  file: string;
}
