/**
 * Which queued rollouts make the next batch. Asynchronous mode trains on the oldest B queued
 * rollouts, whoever sent them (FIFO). Deterministic mode trains update u on exactly the
 * sequence numbers due: actor a's seqs [u * B/A, (u + 1) * B/A), in actor then seq order, so a
 * run is a function of its seed regardless of timing.
 */
import type { Intake, QueuedRollout } from './intake.js';
import { segmentsPerSlot } from '../protocol/actorsConfig.js';

export interface BatchSchedule {
  /** The batch of the update that produces version + 1, or null when it is not complete yet. */
  take(intake: Intake, version: number): QueuedRollout[] | null;
}

/** Asynchronous: the oldest `batchSegments` queued rollouts. */
export class FifoSchedule implements BatchSchedule {
  constructor(readonly batchSegments: number) {}

  take(intake: Intake): QueuedRollout[] | null {
    return intake.takeFifo(this.batchSegments);
  }
}

/**
 * Deterministic: the [actorId, seq] keys update `version` trains on, counted from the version
 * of this learner's first batch: a resumed run (`--resume` at version V) gets fresh actors
 * whose sequence numbers start at 0 again, so its first update takes seqs [0, B/A), not
 * [V B/A, ...) (which never come: the resumed run waited forever).
 */
export class SequenceSchedule implements BatchSchedule {
  /** Rollouts per actor per update. */
  readonly perActor: number;
  /** The version of the first batch taken (0, or the resumed version). */
  private base: number | null = null;

  constructor(
    readonly actors: number,
    workers: number,
    batchSegments: number,
  ) {
    const perSlot = segmentsPerSlot({ actors, workers, batchSegments });
    if (!Number.isInteger(perSlot) || perSlot < 1) {
      throw new RangeError(
        `deterministic schedule: batchSegments ${batchSegments} must be a positive multiple of actors x workers = ${actors * workers}`,
      );
    }
    this.perActor = perSlot * workers;
  }

  keys(version: number): Array<[number, number]> {
    const keys: Array<[number, number]> = [];
    for (let a = 0; a < this.actors; a++) {
      for (let s = version * this.perActor; s < (version + 1) * this.perActor; s++) keys.push([a, s]);
    }
    return keys;
  }

  take(intake: Intake, version: number): QueuedRollout[] | null {
    this.base ??= version;
    return intake.takeKeys(this.keys(version - this.base));
  }
}

export function batchSchedule(c: { deterministic: boolean; actors: number; workers: number; batchSegments: number }): BatchSchedule {
  return c.deterministic ? new SequenceSchedule(c.actors, c.workers, c.batchSegments) : new FifoSchedule(c.batchSegments);
}
