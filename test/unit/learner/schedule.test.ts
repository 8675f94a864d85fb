import { describe, expect, it } from 'vitest';
import { FifoSchedule, SequenceSchedule, batchSchedule } from '../../../learner/schedule.js';
import { Intake } from '../../../learner/intake.js';
import { makeRollout } from '../protocol/helpers.js';

const peer = Buffer.from('p');
const r = (actorId: number, seq: number) => ({ msg: { ...makeRollout(1, 1), actorId, seq }, peer });
const keysOf = (b: Array<{ msg: { actorId: number; seq: number } }> | null) => b?.map((q) => [q.msg.actorId, q.msg.seq]) ?? null;

describe('FifoSchedule (asynchronous)', () => {
  it('takes the oldest B rollouts whoever sent them, or nothing until B are queued', () => {
    const i = new Intake(10, false);
    const s = new FifoSchedule(3);
    i.offer(r(1, 0));
    i.offer(r(0, 0));
    expect(s.take(i)).toBeNull();
    i.offer(r(1, 1));
    i.offer(r(0, 1));
    expect(keysOf(s.take(i))).toEqual([
      [1, 0],
      [0, 0],
      [1, 1],
    ]);
    expect(s.take(i)).toBeNull();
    expect(i.depth).toBe(1);
  });
});

describe('SequenceSchedule (deterministic)', () => {
  it('lists actor a seqs [u * B/A, (u + 1) * B/A) for update u, actor then seq order', () => {
    const s = new SequenceSchedule(2, 3, 12); // 2 per slot, 6 per actor
    expect(s.perActor).toBe(6);
    expect(s.keys(0)).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [0, 3],
      [0, 4],
      [0, 5],
      [1, 0],
      [1, 1],
      [1, 2],
      [1, 3],
      [1, 4],
      [1, 5],
    ]);
    expect(s.keys(2).slice(0, 2)).toEqual([
      [0, 12],
      [0, 13],
    ]);
    expect(s.keys(2).at(-1)).toEqual([1, 17]);
  });

  it('takes nothing until every key is present, then exactly those, leaving later ones queued', () => {
    const i = new Intake(10, true);
    const s = new SequenceSchedule(2, 1, 2); // one rollout per actor per update
    i.offer(r(1, 0));
    i.offer(r(1, 1));
    expect(s.take(i, 0)).toBeNull();
    i.offer(r(0, 0));
    expect(keysOf(s.take(i, 0))).toEqual([
      [0, 0],
      [1, 0],
    ]);
    expect(s.take(i, 1)).toBeNull();
    i.offer(r(0, 1));
    expect(keysOf(s.take(i, 1))).toEqual([
      [0, 1],
      [1, 1],
    ]);
  });

  it('counts from the version of its first batch: a resumed run (fresh actors from seq 0) trains', () => {
    const i = new Intake(10, true);
    const s = new SequenceSchedule(2, 1, 2);
    for (const a of [0, 1]) for (const q of [0, 1]) i.offer(r(a, q));
    expect(keysOf(s.take(i, 7))).toEqual([
      [0, 0],
      [1, 0],
    ]);
    expect(keysOf(s.take(i, 8))).toEqual([
      [0, 1],
      [1, 1],
    ]);
  });

  it('refuses a batch size that is not a multiple of actors x workers', () => {
    expect(() => new SequenceSchedule(2, 2, 6)).toThrow(/batchSegments 6 must be a positive multiple of actors x workers = 4/);
    expect(() => new SequenceSchedule(2, 2, 0)).toThrow(RangeError);
  });

  it('batchSchedule picks by mode', () => {
    expect(batchSchedule({ deterministic: true, actors: 1, workers: 2, batchSegments: 4 })).toBeInstanceOf(SequenceSchedule);
    expect(batchSchedule({ deterministic: false, actors: 1, workers: 2, batchSegments: 3 })).toBeInstanceOf(FifoSchedule);
  });
});
