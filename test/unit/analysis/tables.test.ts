import { describe, expect, it } from 'vitest';
import type { ActorRecord, SummaryRecord } from '../../../protocol/records.js';
import { accounting, lagTable, learningCurve, throughput, trapezoidMean, weightedMean } from '../../../analysis/tables.js';
import { bucket, makeUpdate, quadrants } from '../../helpers/synthRun.js';

const updates = [
  makeUpdate({
    version: 1,
    samples: 10,
    ess: 0.7,
    lagBuckets: {
      '0': bucket(6, {
        ess: 0.9,
        essG: 0.5,
        klMuPiK3: 0.01,
        klPiMu: 0.02,
        meanG: 1,
        quadrants: quadrants([
          [6, 1],
          [0, null],
          [0, null],
          [0, null],
        ]),
      }),
      '4-7': bucket(4, {
        ess: 0.5,
        essG: null,
        meanG: -1,
        quadrants: quadrants([
          [2, 2],
          [2, -2],
          [0, null],
          [0, null],
        ]),
      }),
    },
  }),
  makeUpdate({
    version: 2,
    samples: 20,
    ess: 0.4,
    lagBuckets: {
      '0': bucket(2, {
        ess: 0.6,
        essG: 0.8,
        klMuPiK3: 0.04,
        klPiMu: 0.05,
        meanG: 0,
        quadrants: quadrants([
          [1, 3],
          [1, -1],
          [0, null],
          [0, null],
        ]),
      }),
      '4-7': bucket(18, {
        ess: 0.2,
        essG: 0.4,
        meanG: 0.5,
        quadrants: quadrants([
          [0, null],
          [9, 1],
          [9, 0],
          [0, null],
        ]),
      }),
    },
  }),
];

describe('lagTable', () => {
  it('sample-weights every stat per bucket (hand-computed)', () => {
    const rows = lagTable(updates);
    expect(rows.map((r) => r.bucket)).toEqual(['0', '4-7', 'all']);
    const [b0, b4, all] = rows;
    expect(b0!.n).toBe(8);
    expect(b0!.ess).toBeCloseTo(0.825, 12);
    expect(b0!.essG).toBeCloseTo(0.575, 12);
    expect(b0!.klMuPiK3).toBeCloseTo(0.0175, 12);
    expect(b0!.klPiMu).toBeCloseTo(0.0275, 12);
    expect(b0!.meanG).toBeCloseTo(0.75, 12);
    expect(b0!.quadrantG.wHighAPos).toBeCloseTo(9 / 7, 12);
    expect(b0!.quadrantG.wHighANeg).toBeCloseTo(-1, 12);
    expect(b0!.quadrantG.wLowAPos).toBeNull();
    expect(b4!.n).toBe(22);
    expect(b4!.ess).toBeCloseTo(5.6 / 22, 12);
    expect(b4!.essG).toBeCloseTo(0.4, 12); // the null essG carries no weight
    expect(b4!.meanG).toBeCloseTo(5 / 22, 12);
    expect(b4!.quadrantG.wHighAPos).toBeCloseTo(2, 12);
    expect(b4!.quadrantG.wHighANeg).toBeCloseTo(5 / 11, 12);
    expect(b4!.quadrantG.wLowAPos).toBeCloseTo(0, 12);
    expect(all!.n).toBe(30);
    expect(all!.ess).toBeCloseTo(0.5, 12);
  });

  it('is empty for no updates', () => {
    expect(lagTable([])).toEqual([]);
  });
});

describe('learningCurve', () => {
  const behaviour = [
    [100, 0],
    [200, 100],
    [400, 500],
    [500, 480],
  ].map(([s, r], i) => makeUpdate({ version: i + 1, envSteps: s, return: { mean100: r!, episodes: i } }));

  it('uses behaviour mean100 without evals: threshold, trapezoid AUC, final', () => {
    const c = learningCurve([makeUpdate({ version: 0, envSteps: 50, return: { mean100: null, episodes: 0 } }), ...behaviour], null, 475);
    expect(c.source).toBe('behaviour');
    expect(c.points).toHaveLength(4);
    expect(c.stepsToThreshold).toBe(400);
    expect(c.auc).toBeCloseTo(114000 / 400, 12);
    expect(c.finalReturn).toBe(480);
    expect(c.finalSteps).toBe(500);
    expect(learningCurve(behaviour, null, 1000).stepsToThreshold).toBeNull();
  });

  it('prefers eval stochastic when any update has eval, and the summary finalEval for the final return', () => {
    const ev = (v: number, s: number) => ({ stochastic: s, greedy: s + 1, episodes: 5, version: v });
    const us = behaviour.map((u, i) => (i % 2 === 1 ? { ...u, eval: ev(u.version, 10 * (i + 1)) } : u));
    const c = learningCurve(us, null);
    expect(c.source).toBe('eval');
    expect(c.finalReturn).toBe(40);
    expect(c.auc).toBeCloseTo((20 + 40) / 2, 12); // two eval points: a straight line
    const summary = { envSteps: 600, finalEval: ev(9, 77) } as SummaryRecord;
    expect(learningCurve(us, summary)).toMatchObject({ finalReturn: 77, finalSteps: 600 });
  });
});

describe('learningCurve on real-looking runs', () => {
  const ev = (i: number, s: number, r: number) =>
    makeUpdate({ version: i, envSteps: s, eval: { stochastic: r, greedy: r, episodes: 10, version: i } });

  it('steps to threshold is where the return stays at or above it; a lucky early evaluation only counts as first reached', () => {
    // THE m-v5-negis shape: 500 at 8192 steps, 41.7 at 10752, then 500 from 33792 on.
    const us = [ev(1, 3072, 413.6), ev(2, 8192, 500), ev(3, 10752, 41.7), ev(4, 33792, 500), ev(5, 36608, 500)];
    const c = learningCurve(us, null, 475);
    expect(c.firstReachedSteps).toBe(8192);
    expect(c.stepsToThreshold).toBe(33792);
    const failedAtEnd = learningCurve(
      us,
      { envSteps: 37000, finalEval: { stochastic: 300, greedy: 300, episodes: 100, version: 5 } } as SummaryRecord,
      475,
    );
    expect(failedAtEnd.stepsToThreshold).toBeNull();
    expect(failedAtEnd.firstReachedSteps).toBe(8192);
  });

  it('holds a run stopped at its target at the final eval to the step budget for AUC', () => {
    const us = [ev(1, 0, 0), ev(2, 1000, 500)];
    const summary = { envSteps: 1000, finalEval: { stochastic: 490, greedy: 500, episodes: 100, version: 2 } } as SummaryRecord;
    const plain = learningCurve(us, summary, 475);
    expect(plain.auc).toBe(250);
    expect(plain.heldFrom).toBeNull();
    const held = learningCurve(us, summary, 475, 3000);
    expect(held.heldFrom).toBe(1000);
    expect(held.series).toEqual([
      [0, 0],
      [1000, 500],
      [1000, 490],
      [3000, 490],
    ]);
    expect(held.auc).toBeCloseTo((250 * 1000 + 490 * 2000) / 3000, 12);
    expect(learningCurve(us, summary, 475, 500).heldFrom).toBeNull(); // budget not beyond the run
  });
});

describe('trapezoidMean / weightedMean', () => {
  it('handles the edge cases', () => {
    expect(trapezoidMean([])).toBeNull();
    expect(trapezoidMean([[5, 3]])).toBe(3);
    expect(
      trapezoidMean([
        [0, 0],
        [10, 10],
      ]),
    ).toBe(5);
    expect(
      weightedMean([
        [0, 5],
        [2, null],
        [3, NaN],
      ]),
    ).toBeNull();
    expect(
      weightedMean([
        [1, 1],
        [3, 5],
      ]),
    ).toBe(4);
  });
});

describe('throughput and accounting', () => {
  const summary = {
    envSteps: 5000,
    wallSeconds: 4,
    trained: 9,
    dropped: 2,
    rejected: 1,
    lost: 1,
    received: 13,
    dropReasons: { stale: 2 },
    rejectReasons: { badVersion: 1 },
  } as unknown as SummaryRecord;
  const actor = (actorId: number, fps: number) => ({ kind: 'actor', actorId, fps }) as ActorRecord;

  it('computes fps figures', () => {
    const t = throughput([makeUpdate({ fps: 100 }), makeUpdate({ fps: 300 })], summary, [actor(0, 10), actor(0, 30), actor(1, 5)]);
    expect(t).toMatchObject({ updates: 2, envSteps: 5000, learnerFpsMean: 200, overallFps: 1250, actors: 2, actorFpsTotal: 25 });
    expect(throughput([], null, [])).toMatchObject({ learnerFpsMean: null, overallFps: null, actorFpsTotal: null });
  });

  it('means the update time split over the updates that log it', () => {
    const split = (x: number) => ({ wait: x, batch: 2 * x, grad: 3 * x, allReduce: 0, optimiser: x / 2, publish: 1 });
    const t = throughput([makeUpdate({ timeMs: split(1) }), makeUpdate({ timeMs: split(3) }), makeUpdate({})], summary, []);
    expect(t.timeSplit).toEqual({ wait: 2, batch: 4, grad: 6, allReduce: 0, optimiser: 1, publish: 1 });
    expect(throughput([makeUpdate({})], summary, []).timeSplit).toBeNull(); // logs that predate the split
  });

  it('takes accounting from the summary, else the last update', () => {
    expect(accounting([], summary)).toMatchObject({ source: 'summary', trained: 9, received: 13, dropReasons: { stale: 2 } });
    expect(accounting([makeUpdate({ trained: 4, dropped: 1 })], null)).toMatchObject({
      source: 'last-update',
      trained: 4,
      dropped: 1,
      received: null,
    });
    expect(accounting([], null).source).toBe('none');
  });
});
