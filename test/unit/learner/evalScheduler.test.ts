/** The evaluation scheduler alone, with the fake evaluator: due versions, background and awaited runs, confirmation reuse, the share cap. */
import { describe, expect, it } from 'vitest';
import { EvalScheduler } from '../../../learner/evalScheduler.js';
import { EnvTimeoutError } from '../../../envs/watchdog.js';
import { EnvRuntimeError } from '../../../envs/check.js';
import type { EvalStat } from '../../../protocol/records.js';
import { EVAL_EPISODE_STEPS, FakeEvaluator, MemoryLogger, until } from './fakes.js';

const P = Float32Array.of(1, 2, 3);
const opts = { evalEvery: 2, evalEpisodes: 3, finalEvalEpisodes: 8 };

describe('EvalScheduler', () => {
  it('deterministic mode: evaluates every evalEvery versions and attaches the result to that very update', async () => {
    const ev = new FakeEvaluator();
    const s = new EvalScheduler(ev, { ...opts, deterministic: true }, new MemoryLogger());
    const got = [];
    for (let v = 1; v <= 4; v++) got.push((await s.atUpdate(P, v, 1e9))?.version);
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
    expect(await s.atUpdate(P, 2, 1e9)).toBeUndefined();
    expect(s.running).toBe(true);
    expect(await s.atUpdate(P, 3, 1e9)).toBeUndefined();
    expect(await s.atUpdate(P, 4, 1e9)).toBeUndefined(); // due, but one is running: skipped
    expect(ev.calls.map((c) => c.version)).toEqual([2]);
    ev.release();
    await until(() => !s.running, 'the evaluation');
    expect((await s.atUpdate(P, 5, 1e9))?.version).toBe(2);
    expect(await s.atUpdate(P, 5, 1e9)).toBeUndefined(); // attached once
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
    await s.atUpdate(P, 2, 1e9);
    await s.settle();
    await until(() => !s.running, 'the failure');
    expect(logger.kind('eval-failed')).toMatchObject([{ err: 'Error: worker died' }]);
    await s.atUpdate(P, 4, 1e9);
    await s.settle();
    expect((await s.atUpdate(P, 5, 1e9))?.version).toBe(4);
  });

  it('the final evaluation reuses a confirmation of the same version, and runs anew otherwise', async () => {
    const ev = new FakeEvaluator();
    const s = new EvalScheduler(ev, { ...opts, deterministic: true }, new MemoryLogger());
    expect(await s.randomReturn(3)).toBe(9); // version -1 of the fake
    expect(ev.calls[0]).toEqual({ version: -1, episodes: 10, nParams: 3 });
    const c = await s.confirm(P, 6, 100, () => true);
    expect(await s.final(P, 6)).toBe(c);
    const calls = ev.calls.length;
    expect((await s.final(P, 7)).version).toBe(7);
    expect(ev.calls.length).toBe(calls + 1);
    await s.close();
    expect(ev.closed).toBe(true);
  });

  describe('failures', () => {
    /** An evaluator whose run for `version` fails with `err`, fine otherwise. */
    const failingAt = (bad: number, err: Error, gate?: Promise<void>) => ({
      calls: [] as number[],
      async run(_p: Float32Array, version: number, episodes: number): Promise<EvalStat> {
        this.calls.push(version);
        if (gate) await gate;
        if (version === bad) throw err;
        return { stochastic: 1, greedy: 1, episodes, version };
      },
      close: async () => {},
    });
    const hang = new EnvTimeoutError("environment 'X': step() did not return within 2.0 s (--env-timeout) in somewhere");

    it('an environment that hangs in the random baseline: NaN, logged, and the fault is kept; the final evaluation is not attempted', async () => {
      const logger = new MemoryLogger();
      const ev = failingAt(-1, hang);
      const s = new EvalScheduler(ev, { ...opts, deterministic: true }, logger);
      expect(await s.randomReturn(3)).toBeNaN();
      expect(s.fault).toBe(hang.message);
      expect(logger.kind('eval-failed')).toMatchObject([{ version: -1, envFault: true }]);
      await expect(s.final(P, 0)).rejects.toThrow(`not attempted: an earlier evaluation failed: ${hang.message}`);
      expect(ev.calls).toEqual([-1]);
    });

    it('deterministic mode: a periodic evaluation whose env returned bad values attaches nothing and is the fault (no throw)', async () => {
      const bad = new EnvRuntimeError('X', "env 'X': step returned observation[0] = NaN");
      const s = new EvalScheduler(failingAt(2, bad), { ...opts, deterministic: true }, new MemoryLogger());
      expect(await s.atUpdate(P, 2, 1e9)).toBeUndefined();
      expect(s.fault).toBe(bad.message);
    });

    it('asynchronous mode: a background evaluation that hangs becomes the fault once it fails', async () => {
      let open = () => {};
      const gate = new Promise<void>((r) => (open = r));
      const s = new EvalScheduler(failingAt(2, hang, gate), { ...opts, deterministic: false }, new MemoryLogger());
      await s.atUpdate(P, 2, 1e9);
      await s.atUpdate(P, 3, 1e9);
      expect(s.fault).toBeNull(); // still running
      open();
      await s.settle();
      await until(() => !s.running, 'the failure');
      expect(s.fault).toBe(hang.message);
    });

    it('a confirmation that fails returns undefined; an error the env is not blamed for is no fault, and the final evaluation still runs', async () => {
      const logger = new MemoryLogger();
      const s = new EvalScheduler(failingAt(6, new Error('worker died')), { ...opts, deterministic: true }, logger);
      expect(await s.confirm(P, 6, 100, () => true)).toBeUndefined();
      expect(s.fault).toBeNull();
      expect(logger.kind('eval-failed')).toMatchObject([{ version: 6, envFault: false, err: 'Error: worker died' }]);
      expect((await s.final(P, 7)).version).toBe(7);
    });

    it('the final evaluation that hangs is the fault, and rejects with its own message', async () => {
      const s = new EvalScheduler(failingAt(9, hang), { ...opts, deterministic: true }, new MemoryLogger());
      await expect(s.final(P, 9)).rejects.toBe(hang);
      expect(s.fault).toBe(hang.message);
    });
  });

  describe('the share cap (--eval-share)', () => {
    // The fake's episodes are 2 x EVAL_EPISODE_STEPS = 14 steps long.
    const L = 2 * EVAL_EPISODE_STEPS;

    it('after a resume, the restored evaluation sizes the first capped one (not one step an episode)', async () => {
      const s = new EvalScheduler(
        new FakeEvaluator(),
        { evalEvery: 1, evalEpisodes: 10, finalEvalEpisodes: 8, deterministic: true, evalShare: 0.5 },
        new MemoryLogger(),
      );
      s.cappedSteps = 500; // restored from the checkpoint
      expect(s.episodesAt(1100)).toBe(10); // no estimate: 50 steps left read as 50 one-step episodes
      s.noteEpisodeSteps({ ...(await new FakeEvaluator().run(P, 3, 2)), envSteps: 200, episodes: 10 }); // the restored lastEval: 20 steps an episode
      expect(s.episodesAt(1100)).toBe(2); // floor(50 / 20)
      s.noteEpisodeSteps(undefined); // a checkpoint without one changes nothing
      expect(s.episodesAt(1100)).toBe(2);
    });

    it('shortens an evaluation to what the share leaves, postpones it below one episode, and stays within the share', async () => {
      const ev = new FakeEvaluator();
      const logger = new MemoryLogger();
      const s = new EvalScheduler(
        ev,
        { evalEvery: 1, evalEpisodes: 10, finalEvalEpisodes: 8, deterministic: true, evalShare: 0.5 },
        logger,
      );
      await s.randomReturn(3); // learns the episode length (14 steps); outside the cap
      expect(s.cappedSteps).toBe(0);
      // 100 training steps per update: 50 evaluation steps of budget per update, 3 episodes of 14.
      const got: Array<number | undefined> = [];
      for (let v = 1; v <= 6; v++) {
        got.push((await s.atUpdate(P, v, 100 * v))?.episodes);
        expect(s.cappedSteps).toBeLessThanOrEqual(0.5 * 100 * v);
      }
      expect(got).toEqual([3, 4, 3, 4, 3, 4]); // floor((50 v - steps so far) / 14)
      expect(s.cappedSteps).toBe(21 * L);
      expect(s.capped.shortened).toBe(6);
      // Training barely moves: no budget for an episode, so the next due evaluation is postponed...
      expect(await s.atUpdate(P, 7, 601)).toBeUndefined();
      expect(s.capped.postponed).toBe(1);
      expect(logger.kind('eval-capped')).toHaveLength(1);
      // ...until an update whose budget allows one.
      expect((await s.atUpdate(P, 8, 640))?.episodes).toBe(1);
      expect(s.cappedSteps).toBeLessThanOrEqual(0.5 * 640);
    });

    it('a postponed evaluation runs at the first later update with budget, not at the next multiple of evalEvery', async () => {
      const ev = new FakeEvaluator();
      const s = new EvalScheduler(
        ev,
        { evalEvery: 4, evalEpisodes: 2, finalEvalEpisodes: 8, deterministic: true, evalShare: 1 },
        new MemoryLogger(),
      );
      await s.randomReturn(3);
      expect(await s.atUpdate(P, 4, 10)).toBeUndefined(); // 10 steps of budget < one 14-step episode
      expect(await s.atUpdate(P, 5, 13)).toBeUndefined();
      expect((await s.atUpdate(P, 6, 30))?.episodes).toBe(2); // 30 >= 2 x 14
      expect(await s.atUpdate(P, 7, 100)).toBeUndefined(); // not due, nothing postponed
      expect(ev.calls.filter((c) => c.version >= 0).map((c) => [c.version, c.episodes])).toEqual([[6, 2]]);
    });

    it('no cap (0 or absent): evalEpisodes whatever the training steps; confirmations run in full, outside the cap, as does the final evaluation', async () => {
      for (const evalShare of [0, undefined]) {
        const ev = new FakeEvaluator();
        const s = new EvalScheduler(
          ev,
          { ...opts, deterministic: true, ...(evalShare === undefined ? {} : { evalShare }) },
          new MemoryLogger(),
        );
        expect((await s.atUpdate(P, 2, 1))?.episodes).toBe(3);
      }
      const ev = new FakeEvaluator();
      const s = new EvalScheduler(ev, { ...opts, deterministic: true, evalShare: 0.5 }, new MemoryLogger());
      expect((await s.confirm(P, 2, 100, () => false))?.episodes).toBe(8); // whatever the budget
      expect(s.cappedSteps).toBe(0);
      expect((await s.final(P, 3)).episodes).toBe(8);
      expect(s.cappedSteps).toBe(0); // the final evaluation is outside the account too
      // The failed confirmation does not postpone the periodic evaluations: 0.5 x 28 steps affords one 14-step episode.
      expect((await s.atUpdate(P, 4, 2 * L))?.episodes).toBe(1);
    });

    it('a failed confirmation makes the next wait until training has doubled; an upheld one sets no wait', async () => {
      const s = new EvalScheduler(new FakeEvaluator(), { ...opts, deterministic: true, evalShare: 0.5 }, new MemoryLogger());
      expect(s.mayConfirm(0)).toBe(true);
      await s.confirm(P, 2, 1000, () => false);
      expect([s.mayConfirm(1999), s.mayConfirm(2000)]).toEqual([false, true]);
      await s.confirm(P, 3, 2500, () => false);
      expect([s.mayConfirm(4999), s.mayConfirm(5000)]).toEqual([false, true]);
      await s.confirm(P, 4, 5000, () => true);
      expect(s.confirmAfter).toBe(5000);
    });
  });
});
