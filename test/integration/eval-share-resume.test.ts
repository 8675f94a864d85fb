/**
 * The evaluation share cap holds across `train --resume` (issue 22), with the built CLI: a run
 * whose periodic evaluations are held to --eval-share 0.25 of its training steps stops, is
 * resumed with a raised budget, and the evaluation steps of both sessions together stay within
 * the cap (plus the one evaluation the cap may overrun by, evalScheduler.ts). Before, the
 * resumed learner counted its evaluation steps from zero and spent the first session's share a
 * second time. The evaluations' steps are summed from the log (each periodic evaluation is
 * logged with the update it is attached to; one still running when a session stops is counted
 * by the learner but never logged, so the log's sum is at most the learner's account).
 * Asynchronous mode: a deterministic run cannot be resumed yet (its schedule waits for the
 * sequence numbers of the versions it resumes at, which a new actor does not send).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureBuilt, recordsOf, runCli, smallRunArgs } from '../helpers/cli.js';
import { logLinesSync } from '../../protocol/logFiles.js';
import { CheckpointStore } from '../../learner/checkpoint.js';
import { fromCheckpoint } from '../../learner/runState.js';

const SHARE = 0.25;
const RUN = smallRunArgs({
  hidden: 16,
  workers: 1,
  seed: 11,
  'eval-every': 1,
  'eval-episodes': 10,
  'eval-share': SHARE,
  'final-eval-episodes': 2,
  'checkpoint-every': 10,
  quiet: true,
});

interface Update {
  version: number;
  envSteps: number;
  evalEnvSteps: number;
  eval?: { envSteps: number; episodes: number };
}

/** Update records of each session of the log (a `resume` record starts a new one). */
function sessions(log: string): Update[][] {
  const out: Update[][] = [[]];
  for (const line of logLinesSync(log)) {
    if (line.includes('"kind":"resume"')) out.push([]);
    else if (line.includes('"kind":"update"')) out.at(-1)!.push(JSON.parse(line) as Update);
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'isr-evalshare-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--eval-share across a resume', () => {
  it('the evaluation steps already spent are restored: both sessions together stay within the share', async () => {
    ensureBuilt();
    const runDir = join(dir, 'run');
    const first = await runCli(['train', ...RUN, '--steps', '4096', '--run-dir', runDir], 240_000);
    expect(first.code, first.out + first.err).toBe(0);
    const log = join(runDir, 'learner.ndjson');
    const [s1] = sessions(log);
    const spent1 = s1!.reduce((a, u) => a + (u.eval?.envSteps ?? 0), 0);
    // The cap bound the first session (it evaluated, and not at every update as --eval-every 1 asks).
    const evals1 = s1!.filter((u) => u.eval).length;
    expect(evals1).toBeGreaterThan(0);
    expect(evals1).toBeLessThan(s1!.length);
    // The final checkpoint holds what the periodic evaluations spent (those logged, and at most
    // one that finished unlogged as the session stopped), and at least the total the update records show.
    const largest1 = Math.max(...s1!.map((u) => u.eval?.envSteps ?? 0));
    const { meta } = fromCheckpoint(new CheckpointStore(join(runDir, 'checkpoints')).loadLatest()!.checkpoint);
    expect(meta.final).toBe(true);
    expect(meta.evalCappedSteps).toBeGreaterThanOrEqual(spent1);
    expect(meta.evalCappedSteps).toBeLessThanOrEqual(spent1 + 2 * largest1);
    expect(meta.evalEnvSteps).toBeGreaterThanOrEqual(s1!.at(-1)!.evalEnvSteps);

    const budget = s1!.at(-1)!.envSteps + 20 * 32;
    const second = await runCli(['train', '--resume', runDir, '--steps', String(budget), '--quiet'], 240_000);
    expect(second.code, second.out + second.err).toBe(0);
    const all = sessions(log);
    expect(all.length).toBe(2);
    const s2 = all[1]!;
    expect(s2.length).toBeGreaterThan(0);
    // The total evaluation steps go on from the checkpoint's, not from zero.
    expect(s2[0]!.evalEnvSteps).toBeGreaterThanOrEqual(meta.evalEnvSteps!);
    const spent2 = s2.reduce((a, u) => a + (u.eval?.envSteps ?? 0), 0);
    const trained = s2.at(-1)!.envSteps;
    const largest = Math.max(...[...s1!, ...s2].map((u) => u.eval?.envSteps ?? 0));
    console.log(
      `eval share across a resume: periodic evaluation steps ${spent1} (session 1, ${evals1} evaluations) + ${spent2} (session 2, ${s2.filter((u) => u.eval).length}) for ${trained} training steps; cap ${SHARE * trained} + one evaluation (largest ${largest})`,
    );
    expect(spent1 + spent2).toBeLessThanOrEqual(SHARE * trained + largest);
    // Sharper: an evaluation starts only while the steps spent before it are under the share of the
    // training steps then (at most those of the update it is logged with, which is at or after its start).
    let before = 0;
    for (const u of [...s1!, ...s2]) {
      if (!u.eval) continue;
      expect(before, `the evaluation logged at v${u.version} started over the cap`).toBeLessThan(SHARE * u.envSteps);
      before += u.eval.envSteps;
    }
    expect(recordsOf(log, 'summary').length).toBe(2);
  }, 480_000);
});
