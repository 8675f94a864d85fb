import { describe, expect, it } from 'vitest';
import {
  ReturnWindow,
  stepsPerSecond,
  summaryFields,
  summaryRecord,
  updateFields,
  updateRecord,
  type UpdateInput,
} from '../../../learner/records.js';
import type { UpdateStats } from '../../../learner/learner.js';
import type { IntakeCounts } from '../../../learner/intake.js';

// Only the fields the record builder renames or checks; the diagnostics pass through as they are.
const stats = {
  samples: 256,
  policyLoss: -0.1,
  valueLoss: 2.5,
  entropy: 0.05,
  gradNorm: 0.7,
  lr: 3e-4,
  nonFiniteSkips: 0,
  lagMin: 0,
  lagMean: 1.5,
  lagMax: 4,
  ess: 0.9,
  maxAbsLogRatio: 0.2,
  trainQuadrants: null,
} as unknown as UpdateStats;
const counts: IntakeCounts = {
  received: 12,
  trained: 8,
  dropped: 2,
  rejected: 1,
  lost: 1,
  pending: 1,
  dropReasons: { stale: 2 },
  rejectReasons: { NOT_FINITE: 1 },
};

function input(over: Partial<UpdateInput> = {}): UpdateInput {
  const returns = new ReturnWindow(100);
  returns.note(10);
  returns.note(20);
  return {
    time: 1_700_000_123_456,
    runId: 'r1',
    backend: 'wasm',
    version: 4,
    envSteps: 1024,
    method: 'v5',
    stats,
    returns,
    eval: undefined,
    lastEval: undefined,
    randomReturn: 20,
    collapseEntropy: 0.1,
    fps: 512,
    queueDepth: 3,
    counts,
    evalEnvSteps: 700,
    timeMs: { waitMs: 1, batchMs: 2, gradMs: 3, allReduceMs: 4, optimiserMs: 5, publishMs: 6 },
    ...over,
  };
}

describe('ReturnWindow', () => {
  it('means the last `size` returns and counts every episode', () => {
    const w = new ReturnWindow(3);
    expect(w.summary).toEqual({ mean100: null, episodes: 0 });
    for (const r of [1, 2, 3, 4, 5]) w.note(r);
    expect(w.summary).toEqual({ mean100: 4, episodes: 5 });
  });
});

describe('updateRecord', () => {
  it('renames the learner stats, passes diagnostics through and copies the cumulative counts', () => {
    const rec = updateRecord(input());
    expect(rec).toEqual({
      kind: 'update',
      level: 30,
      time: 1_700_000_123_456,
      role: 'learner',
      backend: 'wasm',
      runId: 'r1',
      version: 4,
      envSteps: 1024,
      samples: 256,
      method: 'v5',
      lag: { min: 0, mean: 1.5, max: 4 },
      ess: 0.9,
      maxAbsLogRatio: 0.2,
      trainQuadrants: null,
      policyLoss: -0.1,
      valueLoss: 2.5,
      entropy: 0.05,
      gradNorm: 0.7,
      lr: 3e-4,
      return: { mean100: 15, episodes: 2 },
      collapsed: false,
      fps: 512,
      queueDepth: 3,
      trained: 8,
      dropped: 2,
      rejected: 1,
      lost: 1,
      evalEnvSteps: 700,
      timeMs: { wait: 1, batch: 2, grad: 3, allReduce: 4, optimiser: 5, publish: 6 },
    });
    expect('nonFiniteSkips' in rec).toBe(false);
    expect('eval' in rec).toBe(false);
  });

  it('updateFields leaves out what the logger adds to every line, and nothing else', () => {
    const rec = updateRecord(input());
    const f = updateFields(rec);
    for (const k of ['level', 'time', 'role', 'backend', 'runId']) expect(k in f).toBe(false);
    expect(Object.keys(f).length).toBe(Object.keys(rec).length - 5);
    expect(f).toMatchObject({ kind: 'update', version: 4, envSteps: 1024 });
  });

  it('attaches an evaluation and flags a collapse: low entropy and the last evaluation below random', () => {
    const e = { stochastic: 9, greedy: 9, episodes: 10, version: 4 };
    expect(updateRecord(input({ eval: e, lastEval: e }))).toMatchObject({ eval: e, collapsed: true });
    // Not collapsed: entropy high, or evaluation at least random, or no evaluation yet.
    expect(updateRecord(input({ lastEval: e, stats: { ...stats, entropy: 0.5 } })).collapsed).toBe(false);
    expect(updateRecord(input({ lastEval: { ...e, stochastic: 20 } })).collapsed).toBe(false);
    expect(updateRecord(input({ lastEval: undefined })).collapsed).toBe(false);
  });

  it('stepsPerSecond floors the interval at 1 ms', () => {
    expect(stepsPerSecond(500, 250)).toBe(2000);
    expect(stepsPerSecond(3, 0)).toBe(3000);
  });
});

describe('summaryRecord', () => {
  it('computes wall time from the clock readings and copies the final accounts', () => {
    const returns = new ReturnWindow();
    returns.note(7);
    const finalEval = { stochastic: 100, greedy: 120, episodes: 100, version: 9 };
    const s = summaryRecord({
      runId: 'r1',
      backend: 'wasm',
      now: 12_500,
      t0: 2_000,
      version: 9,
      envSteps: 4096,
      evalEnvSteps: 900,
      counts,
      finalEval,
      randomReturn: 21.5,
      returns,
      stopReason: 'step budget 4096 reached',
    });
    expect(s).toEqual({
      kind: 'summary',
      level: 30,
      time: 12_500,
      role: 'learner',
      backend: 'wasm',
      runId: 'r1',
      version: 9,
      envSteps: 4096,
      evalEnvSteps: 900,
      wallSeconds: 10.5,
      trained: 8,
      dropped: 2,
      rejected: 1,
      lost: 1,
      received: 12,
      dropReasons: { stale: 2 },
      rejectReasons: { NOT_FINITE: 1 },
      finalEval,
      randomReturn: 21.5,
      return: { mean100: 7, episodes: 1 },
      stopReason: 'step budget 4096 reached',
    });
    const f = summaryFields(s);
    expect(Object.keys(f)).not.toContain('level');
    expect(Object.keys(f)).not.toContain('runId');
    expect(f).toMatchObject({ kind: 'summary', wallSeconds: 10.5, received: 12 });
  });
});
