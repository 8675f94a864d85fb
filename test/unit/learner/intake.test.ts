import { describe, expect, it } from 'vitest';
import { Intake } from '../../../learner/intake.js';
import type { RolloutMsg } from '../../../protocol/messages.js';
import { makeRollout } from '../protocol/helpers.js';

const peer = Buffer.from('p');
const r = (actorId: number, seq: number) => ({ msg: { ...makeRollout(2, 1), actorId, seq }, peer });

function balanced(i: Intake): void {
  const c = i.counts;
  expect(c.received).toBe(c.trained + c.dropped + c.rejected + c.pending);
}

describe('Intake accounting', () => {
  it('queues in order, counts gaps as lost, drops duplicates and stale rollouts without inventing losses', () => {
    const i = new Intake(10, false);
    expect(i.offer(r(0, 0))).toBeNull();
    expect(i.offer(r(0, 1), 'stale')).toBe('stale');
    expect(i.offer(r(0, 2))).toBeNull(); // no gap: seq 1 was accounted for as a drop
    expect(i.counts.lost).toBe(0);
    expect(i.offer(r(0, 5))).toBeNull(); // 3 and 4 never arrived
    expect(i.counts.lost).toBe(2);
    expect(i.offer(r(0, 2))).toBe('duplicate');
    expect(i.offer(r(1, 0))).toBeNull(); // actors are independent
    i.reject('NOT_FINITE');
    balanced(i);
    const b = i.takeFifo(3)!;
    expect(b.map((q) => [q.msg.actorId, q.msg.seq])).toEqual([
      [0, 0],
      [0, 2],
      [0, 5],
    ]);
    expect(i.takeFifo(2)).toBeNull();
    i.trained(3);
    balanced(i);
    expect(i.counts.dropReasons).toEqual({ stale: 1, duplicate: 1 });
    expect(i.counts.rejectReasons).toEqual({ NOT_FINITE: 1 });
    i.drain();
    expect(i.counts.pending).toBe(0);
    balanced(i);
  });

  it('bounds memory: beyond capacity rollouts are dropped as queue-full', () => {
    const i = new Intake(2, false);
    expect(i.offer(r(0, 0))).toBeNull();
    expect(i.offer(r(0, 1))).toBeNull();
    expect(i.offer(r(0, 2))).toBe('queue-full');
    expect(i.depth).toBe(2);
    balanced(i);
  });

  it('deterministic mode takes exactly the keys due, in the order asked, and waits for missing ones', () => {
    const i = new Intake(10, true);
    i.offer(r(1, 0));
    expect(
      i.takeKeys([
        [0, 0],
        [1, 0],
      ]),
    ).toBeNull();
    i.offer(r(0, 0));
    const b = i.takeKeys([
      [0, 0],
      [1, 0],
    ])!;
    expect(b.map((q) => q.msg.actorId)).toEqual([0, 1]);
    i.trained(b.length);
    balanced(i);
  });
});

describe('Intake after an actor restart or a learner resume', () => {
  const roll = (actorId: number, seq: number) => ({ msg: { actorId, seq } as unknown as RolloutMsg, peer: Buffer.from('p') });

  it('a restarted actor (a new incarnation) starts its sequence numbers again without a duplicate drop or a lost gap', () => {
    const i = new Intake(8, false);
    expect(i.offer(roll(0, 0))).toBeNull();
    expect(i.offer(roll(0, 1))).toBeNull();
    i.resetSeq(0);
    expect(i.offer(roll(0, 0))).toBeNull();
    expect(i.offer(roll(0, 2))).toBeNull(); // a real gap after the restart counts
    expect(i.counts).toMatchObject({ received: 4, dropped: 0, lost: 1 });
  });

  it('after resume, the first rollout of each actor is its start; a fresh intake counts the gap', () => {
    const fresh = new Intake(8, false);
    fresh.offer(roll(3, 40));
    expect(fresh.counts.lost).toBe(40);
    const r = new Intake(8, false);
    r.resumed();
    r.offer(roll(3, 40));
    r.offer(roll(3, 42));
    expect(r.counts).toMatchObject({ received: 2, lost: 1 });
  });
});
