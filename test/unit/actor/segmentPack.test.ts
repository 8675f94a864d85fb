import { describe, expect, it } from 'vitest';
import { SegmentCollector } from '../../../actor/collect.js';
import { packSegment, unpackSegment } from '../../../actor/segmentPack.js';
import { initParams } from '../../../model/params.js';

describe('segment packing for transfer between threads', () => {
  it('round-trips a real segment (with truncations and finished episodes) through one buffer', () => {
    const spec = { obsDim: 4, nActions: 2, hidden: [8] };
    const c = new SegmentCollector({ envId: 'CartPole-v1', numEnvs: 3, seed: 2, modelSpec: spec });
    const p = initParams(spec, 1);
    let seg = c.collect(p, 5);
    for (let i = 0; i < 200 && seg.episodeReturns.length === 0; i++) seg = c.collect(p, 37);
    expect(seg.episodeReturns.length).toBeGreaterThan(0);
    const packed = packSegment(seg);
    // One buffer, and the views read it back exactly (through a structured clone too).
    const back = unpackSegment(structuredClone(packed));
    for (const k of ['T', 'E', 'obsDim'] as const) expect(back[k]).toBe(seg[k]);
    for (const k of [
      'obs',
      'lastObs',
      'actions',
      'rewards',
      'terminated',
      'truncated',
      'finalObs',
      'logmu',
      'episodeReturns',
      'episodeLengths',
    ] as const) {
      expect(back[k].constructor).toBe(seg[k].constructor);
      expect(Array.from(back[k] as ArrayLike<number>)).toEqual(Array.from(seg[k] as ArrayLike<number>));
    }
  });
});
