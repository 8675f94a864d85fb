/**
 * infra/pinnedWorker.ts: one dedicated worker thread driven through shared memory. Requests
 * and answers, shared buffers read in place, errors that fail one request and not the thread,
 * a thread that dies, and an await that lets the event loop run. Needs the build
 * (dist/test/unit/infra/pinnedFixture.js).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { PinnedWorker } from '../../../infra/pinnedWorker.js';
import { workerFile } from '../../../infra/workerFile.js';

const file = workerFile('test/unit/infra', 'pinnedFixture');
const open: PinnedWorker[] = [];
function worker(data: unknown = null, spinUs = 0): PinnedWorker {
  const w = new PinnedWorker(file, data, { spinUs, name: 'fixture' });
  open.push(w);
  return w;
}
afterAll(async () => {
  await Promise.all(open.map((w) => w.close()));
});

describe('PinnedWorker', () => {
  it('answers requests in order with the arguments written into shared memory', async () => {
    const w = worker({ tag: 'x' }, 100);
    for (let i = 0; i < 200; i++) {
      w.ints[0] = i;
      w.floats[0] = 0.5;
      expect(await w.call(0)).toEqual({ sum: i + 0.5, data: { tag: 'x' } });
    }
  });

  it('waitSync blocks until done; a second start while one is in flight is refused', () => {
    const w = worker();
    w.ints[0] = 30;
    w.start(2);
    expect(() => w.start(0)).toThrow(/already in flight/);
    expect(w.waitSync(10_000)).toBe(true);
    expect(w.finish()).toBe('slept');
  });

  it('works on a shared buffer in place (sent once, no copy per request)', async () => {
    const w = worker();
    const buf = new SharedArrayBuffer(8 * 1000);
    const a = new Float64Array(buf);
    w.send(buf);
    for (let k = 1; k <= 3; k++) {
      w.floats[0] = k;
      expect(await w.call(5)).toBeUndefined();
    }
    expect(a.every((x) => x === 6)).toBe(true);
  });

  it('a handler error fails its request with the message; the thread serves the next one', async () => {
    const w = worker();
    w.ints[0] = 7;
    await expect(w.call(1)).rejects.toThrow('fixture: boom 7');
    w.ints[0] = 1;
    w.floats[0] = 1;
    expect(await w.call(0)).toMatchObject({ sum: 2 });
  });

  it('an async handler: a structured message in, its answer out', async () => {
    const w = worker();
    expect(await w.call(4, { hello: [1, 2, 3] })).toEqual({ hello: [1, 2, 3] });
  });

  it('awaiting a long request lets the event loop turn; waitSync does not', async () => {
    const w = worker();
    let turns = 0;
    let on = true;
    const tick = () => {
      if (!on) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    w.ints[0] = 40;
    w.start(2);
    w.waitSync(10_000);
    w.finish();
    expect(turns).toBe(0);
    w.ints[0] = 40;
    await w.call(2);
    on = false;
    expect(turns).toBeGreaterThan(0);
  });

  it('a thread that exits fails the request in flight and every later one', async () => {
    const w = worker();
    await expect(w.call(3)).rejects.toThrow(/fixture exited \(code 3\)/);
    expect(() => w.start(0)).toThrow(/fixture exited/);
  });
});
