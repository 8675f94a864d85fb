import { describe, expect, it } from 'vitest';
import { wallClock } from '../../../protocol/clock.js';

describe('wallClock', () => {
  it('now() is Date.now()', () => {
    const a = Date.now();
    const t = wallClock.now();
    expect(t).toBeGreaterThanOrEqual(a);
    expect(t).toBeLessThanOrEqual(Date.now());
  });

  it('sleep resolves early when its signal aborts, and at once when it already has', async () => {
    const ac = new AbortController();
    let done = false;
    const p = wallClock.sleep(60_000, ac.signal).then(() => {
      done = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    ac.abort();
    await p; // would time the test out if the abort did not end the sleep
    expect(done).toBe(true);
    await wallClock.sleep(60_000, ac.signal);
  });

  it('sleep without a signal resolves after its time', async () => {
    let done = false;
    const p = wallClock.sleep(1).then(() => {
      done = true;
    });
    expect(done).toBe(false);
    await p;
    expect(done).toBe(true);
  });
});
