import { describe, expect, it } from 'vitest';
import { etaText } from '../../../deploy/commands/sweep.js';

describe('sweep ETA', () => {
  it('divides the remaining cells by the cells run at once', () => {
    // 20 s per cell, 119 left, 2 at a time: 59.5 waves of 20 s = 1190 s
    expect(etaText(14_000, 20_000, 119, 2)).toBe('elapsed 14s, ETA 19m50s');
    expect(etaText(14_000, 20_000, 119, 1)).toBe('elapsed 14s, ETA 39m40s');
  });

  it('runs at most `remaining` cells at once in the last wave, and says 0s when done', () => {
    expect(etaText(60_000, 30_000, 1, 4)).toBe('elapsed 1m00s, ETA 30s');
    expect(etaText(3_600_000, 30_000, 0, 2)).toBe('elapsed 1h00m, ETA 0s');
  });

  it('prints ? before any cell has finished', () => {
    expect(etaText(5_000, NaN, 10, 2)).toBe('elapsed 5s, ETA ?');
  });
});
