/**
 * `--floor max1` (docs/METHODS.md section 2.3): the draft's g, raised to at least 1 on samples
 * with A log w < 0. The golden rows (test/fixtures/floor-max1.json, numpy) are checked with the
 * other golden cases in objectives.test.ts; here: values derived by hand from section 3.5, and
 * the relation to the constant floor on every option set.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_OBJECTIVE, OBJECTIVE_CHOICES, type ObjectiveConfig } from '../../../protocol/objectiveConfig.js';
import { checkObjectiveConfig, computeWeights, weightFromLogRatio, weightOf } from '../../../learner/objectives/index.js';
import { goldenMax1 } from './golden.js';

const MAX1: ObjectiveConfig = { ...DEFAULT_OBJECTIVE, method: 'v5', floor: 'max1' };
/** The draft's v5 at the docs/METHODS.md section 2 defaults (the default method is ppo). */
const DRAFT: ObjectiveConfig = { ...DEFAULT_OBJECTIVE, method: 'v5' };

describe('floor = max1', () => {
  it('is an accepted floor value', () => {
    expect(OBJECTIVE_CHOICES.floor).toContain('max1');
    expect(checkObjectiveConfig(MAX1)).toBeNull();
  });

  it('the four quadrants of section 3.5, by hand: only the two "wrong" quadrants change, and only where g < 1', () => {
    // (w, A) -> the draft's g (section 3.5, 3.4) and max1's g.
    const cases: [number, number, number, number][] = [
      [2, 1, 1.21, 1.21], // A log w > 0: right way, unchanged
      [0.5, -1, 0.806, 0.806], // A log w > 0: unchanged (the quadrant neg-is changes, max1 does not)
      [3, -1, 1.182, 1.182], // A log w < 0 but the draft's g is already > 1
      [0.5, 1, 0.664, 1], // A log w < 0, draft 0.664 -> 1
      [10, -1, 0.177, 1], // A log w < 0, draft 0.177 -> 1
      [10, 1, 0.828, 0.828], // right way: the floor stays at 0.828
    ];
    for (const [w, A, draft, want] of cases) {
      expect(weightOf(DRAFT, w, A).g).toBeCloseTo(draft, 3);
      expect(weightOf(MAX1, w, A).g, `w=${w} A=${A}`).toBeCloseTo(want, 3);
    }
  });

  it('g(1, A) = 1 and A = 0 leaves g unchanged', () => {
    for (const A of [-2, 0, 2]) expect(weightOf(MAX1, 1, A).g).toBeCloseTo(1, 12);
    for (const w of [0.1, 0.9, 3]) expect(weightOf(MAX1, w, 0).g).toBe(weightOf(DRAFT, w, 0).g);
  });

  it('equals max(const floor g, 1) where A log w < 0 and the const floor g elsewhere, for v5 and v5-fixed with every option', () => {
    const cfg = fc.record({
      method: fc.constantFrom('v5' as const, 'v5-fixed' as const),
      trust: fc.constantFrom('linear' as const, 'log' as const),
      sftTrust: fc.boolean(),
      tauH: fc.double({ min: 0.1, max: 5, noNaN: true }),
      tauC: fc.double({ min: 0.1, max: 5, noNaN: true }),
      gammaBase: fc.double({ min: 0, max: 0.5, noNaN: true }),
      gammaMax: fc.double({ min: 0.5, max: 1, noNaN: true }),
      gamma: fc.double({ min: 0, max: 1, noNaN: true }),
    });
    fc.assert(
      fc.property(cfg, fc.double({ min: -30, max: 30, noNaN: true }), fc.double({ min: -5, max: 5, noNaN: true }), (p, lr, A) => {
        const base = weightFromLogRatio({ ...DEFAULT_OBJECTIVE, ...p, floor: 'const' }, lr, A).g;
        const got = weightFromLogRatio({ ...DEFAULT_OBJECTIVE, ...p, floor: 'max1' }, lr, A).g;
        const logW = Math.min(Math.max(lr, -20), 20);
        return got === (A * logW < 0 ? Math.max(base, 1) : base);
      }),
      { numRuns: 2000 },
    );
  });

  it('the batch form agrees with the scalar form, and the numpy golden cases cover both methods and sft-trust', () => {
    expect(new Set(goldenMax1.weights.map((c) => c.method))).toEqual(new Set(['v5', 'v5-fixed']));
    expect(goldenMax1.weights.some((c) => c.params.sftTrust === true)).toBe(true);
    const lr = Float64Array.from({ length: 41 }, (_, i) => (i - 20) / 5);
    const adv = Float64Array.from(lr, (_, i) => Math.sin(i));
    const batch = computeWeights(MAX1, lr, adv).g;
    lr.forEach((x, i) => expect(batch[i]).toBe(weightFromLogRatio(MAX1, x, adv[i]!).g));
  });
});
