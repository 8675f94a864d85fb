import { describe, expect, it } from 'vitest';
import { policyInfo } from '../../../deploy/tfjsExport.js';
import { logStdOffset, paramCount } from '../../../model/params.js';
import type { ModelSpec } from '../../../model/spec.js';

describe('policy.json of an export', () => {
  // Failed before: the export held the Gaussian mean only; the learned log-std was lost.
  it('holds the learned log-stds (one per action dimension) and the box for a Gaussian policy', () => {
    const spec = { obsDim: 3, nActions: 2, hidden: [4], head: 'gaussian' as const } satisfies ModelSpec;
    const params = Float64Array.from({ length: paramCount(spec) }, (_, i) => i / 100);
    const so = logStdOffset(spec);
    const info = policyInfo(spec, params, { envId: 'My-v0', version: 7, box: { low: [-1, -2], high: [1, 2] } });
    expect(info.head).toBe('gaussian');
    expect(info.output).toBe('mean');
    expect(info.logStd).toEqual([params[so], params[so + 1]]);
    expect(info.box).toEqual({ low: [-1, -2], high: [1, 2] });
  });

  it('has no log-std for a categorical policy', () => {
    const spec = { obsDim: 4, nActions: 2, hidden: [8] } satisfies ModelSpec;
    const info = policyInfo(spec, new Float64Array(paramCount(spec)), { envId: 'CartPole-v1', version: 1, box: null });
    expect(info).toMatchObject({ head: 'categorical', output: 'logits', logStd: null, box: null });
  });
});
