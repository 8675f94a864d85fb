/** The evaluation scheduler alone, with the fake evaluator: due versions, background and awaited runs, confirmation reuse. */
import { describe, expect, it } from 'vitest';
import { EvalScheduler } from '../../../learner/evalScheduler.js';
import { EVAL_EPISODE_STEPS, FakeEvaluator, MemoryLogger, until } from './fakes.js';

const P = Float32Array.of(1, 2, 3);
const opts = { evalEvery: 2, evalEpisodes: 3, finalEvalEpisodes: 8 };

describe('EvalScheduler', () => {
  it('deterministic mode: evaluates every evalEvery versions and attaches the result to that very update', async () => {
    const ev = new FakeEvaluator();
    const s = new EvalScheduler(ev, { ...opts, deterministic: true }, new MemoryLogger());
    const got = [];
    for (let v = 1; v <= 4; v++) got.push((await s.atUpdate(P, v))?.version);
    expect(got).toEqual([undefined, 2, undefined, 4]);
    expect(ev.calls.map((c) => [c.version, c.episodes])).toEqual([
      [2, 3],
      [4, 3],
    ]);
    expect(s.last?.version).toBe(4);
    expect(s.envSteps).toBe(2 * 2 * 3 * EVAL_EPISODE_STEPS);
  });

  it('asynchronous mode: one evaluation at a time in the background, attached to the first update after it is ready', async () => {
    const ev = new FakeEvaluator();
    ev.holdEpisodes = 3;
    const s = new EvalScheduler(ev, { ...opts, deterministic: false }, new MemoryLogger());
    expect(await s.atUpdate(P, 2)).toBeUndefined();
    expect(s.running).toBe(true);
    expect(await s.atUpdate(P, 3)).toBeUndefined();
    expect(await s.atUpdate(P, 4)).toBeUndefined(); // due, but one is running: skipped
    expect(ev.calls.map((c) => c.version)).toEqual([2]);
    ev.release();
    await until(() => !s.running, 'the evaluation');
    expect((await s.atUpdate(P, 5))?.version).toBe(2);
    expect(await s.atUpdate(P, 5)).toBeUndefined(); // attached once
    expect(s.last?.version).toBe(2);
  });

  it('a failed background evaluation is logged and does not stop the next one', async () => {
    const logger = new MemoryLogger();
    let n = 0;
    const s = new EvalScheduler(
      {
        run: async (_p, version, episodes) => {
          if (n++ === 0) throw new Error('worker died');
          return { stochastic: 1, greedy: 1, episodes, version };
        },
        close: async () => {},
      },
      { ...opts, deterministic: false },
      logger,
    );
    await s.atUpdate(P, 2);
    await s.settle();
    await until(() => !s.running, 'the failure');
    expect(logger.kind('eval-failed')).toMatchObject([{ err: 'Error: worker died' }]);
    await s.atUpdate(P, 4);
    await s.settle();
    expect((await s.atUpdate(P, 5))?.version).toBe(4);
  });

  it('the final evaluation reuses a confirmation of the same version, and runs anew otherwise', async () => {
    const ev = new FakeEvaluator();
    const s = new EvalScheduler(ev, { ...opts, deterministic: true }, new MemoryLogger());
    expect(await s.randomReturn(3)).toBe(9); // version -1 of the fake
    expect(ev.calls[0]).toEqual({ version: -1, episodes: 10, nParams: 3 });
    const c = await s.confirm(P, 6);
    expect(await s.final(P, 6)).toBe(c);
    const calls = ev.calls.length;
    expect((await s.final(P, 7)).version).toBe(7);
    expect(ev.calls.length).toBe(calls + 1);
    await s.close();
    expect(ev.closed).toBe(true);
  });
});
