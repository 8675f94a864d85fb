/**
 * The scaling bench's 16-core prediction (bench/scaling.ts `predictSpeedups`): Amdahl from the
 * measured per-update split, labelled a prediction. Made-up measurements, worked by hand.
 */
import { describe, expect, it } from 'vitest';
import { predictSpeedups, type LearnerPoint } from '../../../bench/scaling.js';

/** 512 samples per update (the bench's settings): samples/s for a per-update time in ms. */
const rate = (ms: number): number => (512 * 1000) / ms;
const point = (threads: number, ms: number, gradMs: number, optimiserMs: number): LearnerPoint => ({
  threads,
  samplesPerSec: rate(ms),
  updates: 100,
  timeMs: { batchMs: 0, gradMs, allReduceMs: 0, optimiserMs },
});

describe('scaling bench prediction', () => {
  // 1 thread: 40 ms per update, of which gradients 30 and optimiser 4; the forward pass 2.
  const pts = [point(1, 40, 30, 4), point(2, 25, 15, 2)];

  it('the optimiser counts as serial where the threads do not share it', () => {
    const { basis, predicted } = predictSpeedups(pts, 2, [4]);
    expect(basis.parallelMs).toBeCloseTo(32, 9);
    expect(basis.serialMs).toBeCloseTo(8, 9);
    expect(basis.optimiserShared).toBe(false);
    // 25 - (8 + 32 / 2) = 1 ms per extra thread; at 4 threads 8 + 8 + 3 = 19 ms.
    expect(basis.overheadPerThreadMs).toBeCloseTo(1, 9);
    expect(predicted[0].speedup).toBeCloseTo(40 / 19, 9);
    // The other bound: the overhead paid once, 8 + 8 + 1 = 17 ms.
    expect(predicted[0].speedupIfOverheadConstant).toBeCloseTo(40 / 17, 9);
  });

  it('and as parallel where they share it: the same measurements predict more', () => {
    const { basis, predicted } = predictSpeedups(pts, 2, [4, 16], true);
    expect(basis.parallelMs).toBeCloseTo(36, 9);
    expect(basis.serialMs).toBeCloseTo(4, 9);
    // 25 - (4 + 18) = 3 ms per extra thread; at 4 threads 4 + 9 + 9 = 22 ms, at 16: 4 + 2.25 + 45.
    expect(basis.overheadPerThreadMs).toBeCloseTo(3, 9);
    expect(predicted.map((p) => p.speedup)).toEqual([expect.closeTo(40 / 22, 9), expect.closeTo(40 / 51.25, 9)]);
    // Paid once: 4 + 9 + 3 and 4 + 2.25 + 3.
    expect(predicted.map((p) => p.speedupIfOverheadConstant)).toEqual([expect.closeTo(40 / 16, 9), expect.closeTo(40 / 9.25, 9)]);
  });
});
