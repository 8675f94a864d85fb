/**
 * Failures that keep the run, on real processes and real files:
 * - a disk that fills up mid-run (a small tmpfs this test mounts, as root):
 *   `train` keeps training to its budget, the learner says once that its log and its checkpoints
 *   stopped, never prints a stack trace, leaves no temporary checkpoint file, and the run ends
 *   with its summary printed (exit 1: the run's files are incomplete); a disk that has room
 *   again before the end gets the held log lines and the final checkpoint (the final attempt);
 * - a checkpoint of NaN parameters with a correct checksum is refused on load: `eval` warns and
 *   uses the older valid one, `train --resume` resumes from it;
 * - an environment that throws in the final evaluation: the summary is still written, with the
 *   evaluation marked failed.
 * Skipped with the reason when not run as root (mounting a tmpfs needs it).
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  closeSync,
  openSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, recordsOf, runCli, smallRunArgs, startTrain, until } from '../helpers/cli.js';
import { CheckpointStore, decodeCheckpoint, encodeCheckpoint } from '../../learner/checkpoint.js';
import { logExists } from '../../protocol/logFiles.js';
import type { SummaryRecord } from '../../protocol/records.js';

const isRoot = process.getuid?.() === 0;
const mounts: string[] = [];

/** Mount a tmpfs of `mb` MiB at a new folder; null (with the reason) when the system refuses. */
function mountTmpfs(mb: number): string | null {
  const at = mkdtempSync(join(tmpdir(), 'isr-disk-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${mb}m`, 'tmpfs', at], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  mounts.push(at);
  return at;
}

/** Write zeros to `file` until the disk is full; returns the bytes written. */
function fillDisk(file: string): number {
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(64 * 1024);
  let n = 0;
  try {
    for (;;) n += writeSync(fd, block);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
  return n;
}

/** Poll `f` every 100 ms, at most `tries` times (a bound, not a timing assertion). */

const hasUpdate = (runDir: string) => {
  const f = join(runDir, 'learner.ndjson');
  return existsSync(f) && readFileSync(f, 'utf8').includes('"kind":"update"');
};

const STACK = /^\s+at .+\(.*:\d+:\d+\)$/m;

beforeAll(() => ensureBuilt(), 300_000);
afterAll(() => {
  for (const m of mounts) if (spawnSync('umount', ['-l', m]).status === 0) rmSync(m, { recursive: true, force: true });
});

describe.skipIf(!isRoot)('a full disk (a tmpfs mounted by the test: needs root)', () => {
  it('full disk: training goes on to its budget, one line each for the log and the checkpoints, the summary printed, exit 1', async () => {
    const disk = mountTmpfs(8);
    if (disk === null) throw new Error('mount -t tmpfs failed although running as root');
    const runDir = join(disk, 'run');
    const t = startTrain(['--run-dir', runDir, ...smallRunArgs({ steps: 6000, 'checkpoint-every': 5, quiet: true })]);
    await until(() => hasUpdate(runDir), 'the first update');
    const filled = fillDisk(join(disk, 'filler'));
    expect(filled).toBeGreaterThan(0);
    const code = await t.exit;
    const out = t.out();
    expect(code, out).toBe(1);
    // One line for the learner's log, one for its checkpoints, then the summary, printed.
    expect(out.match(/isreshape learner: log .*learner\.ndjson cannot be written \(ENOSPC/g), out).toHaveLength(1);
    expect(out.match(/isreshape learner: checkpoint .* not written \(ENOSPC.*checkpoints stop here/g), out).toHaveLength(1);
    expect(out).toContain('finished: step budget 6000 reached');
    expect(out).toMatch(/summary\.json could not be written \(ENOSPC[^)]*\); the summary: \{"kind":"summary"/);
    expect(out).not.toMatch(STACK);
    const printed = JSON.parse(/the summary: (\{.*\})\n/.exec(out)![1]!) as SummaryRecord;
    expect(printed.envSteps).toBeGreaterThanOrEqual(6000);
    expect(printed.received).toBe(printed.trained + printed.dropped + printed.rejected);
    // No temporary checkpoint file is left; every checkpoint there verifies.
    const ckDir = join(runDir, 'checkpoints');
    expect(readdirSync(ckDir).filter((n) => n.includes('.tmp-'))).toEqual([]);
    rmSync(join(disk, 'filler'));
    const skipped: string[] = [];
    expect(new CheckpointStore(ckDir, { onSkip: (f) => skipped.push(f) }).loadLatest()).not.toBeNull();
    expect(skipped).toEqual([]);
  }, 420_000);

  it('full, then space again before the end: the final attempt writes the held lines, the final checkpoint and summary.json (exit 0)', async () => {
    // A read-only remount cannot be made under files open for writing (EBUSY), so the disk
    // comes back by freeing it; EROFS takes the same path as ENOSPC (learner/checkpoint.ts isDiskError).
    const disk = mountTmpfs(8);
    if (disk === null) throw new Error('mount -t tmpfs failed although running as root');
    const runDir = join(disk, 'run');
    const t = startTrain(['--run-dir', runDir, ...smallRunArgs({ steps: 8000, 'checkpoint-every': 5, quiet: true })]);
    await until(() => hasUpdate(runDir), 'the first update');
    fillDisk(join(disk, 'filler'));
    await until(() => /learner\.ndjson cannot be written \(ENOSPC/.test(t.out()), 'the learner saying its log stopped');
    rmSync(join(disk, 'filler'));
    const code = await t.exit;
    const out = t.out();
    expect(code, out).toBe(0);
    expect(out).toMatch(/isreshape learner: log .*learner\.ndjson: the final attempt wrote the \d+ held lines/);
    expect(out).not.toMatch(STACK);
    const [summary] = recordsOf<SummaryRecord>(join(runDir, 'learner.ndjson'), 'summary');
    expect(summary!.envSteps).toBeGreaterThanOrEqual(8000);
    // A write cut short by the full disk left no line merged with the held ones: all but at most one cut line parse.
    const lines = readFileSync(join(runDir, 'learner.ndjson'), 'utf8').trim().split('\n');
    const unparsable = lines.filter((l) => {
      try {
        JSON.parse(l);
        return false;
      } catch {
        return true;
      }
    });
    expect(unparsable.length).toBeLessThanOrEqual(1);
    expect(JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'))).toMatchObject({ kind: 'summary', version: summary!.version });
    const latest = new CheckpointStore(join(runDir, 'checkpoints')).loadLatest()!;
    expect(latest.checkpoint.meta).toMatchObject({ final: true, version: summary!.version });
  }, 420_000);
});

describe('checkpoints and evaluations that fail', () => {
  let work = '';
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'isr-ckfault-'));
  });

  it('a checkpoint with NaN parameters and a correct checksum is refused: eval warns and uses the older one, resume continues from it', async () => {
    const runDir = join(work, 'nan');
    const first = await runCli(['train', '--run-dir', runDir, ...smallRunArgs({ steps: 640, 'checkpoint-every': 5, quiet: true })]);
    expect(first.code, first.out + first.err).toBe(0);
    const store = new CheckpointStore(join(runDir, 'checkpoints'));
    const [newest, older] = store.list();
    const ck = decodeCheckpoint(readFileSync(newest!));
    ck.arrays.params![7] = NaN;
    writeFileSync(newest!, encodeCheckpoint(ck)); // a valid checksum over NaN parameters
    const olderVersion = decodeCheckpoint(readFileSync(older!)).meta.version;

    const ev = await runCli(['eval', runDir, '--episodes', '2', '--json']);
    expect(ev.code, ev.err).toBe(0);
    expect(ev.err).toMatch(/warning: eval: skipped ckpt-\d+\.bin: section 'params' holds NaN at index 7 .*; using ckpt-\d+\.bin/);
    expect(JSON.parse(ev.out)).toMatchObject({ episodes: 2, version: olderVersion });

    const again = await runCli(['train', '--resume', runDir, '--steps', '1280', '--quiet']);
    expect(again.code, again.out + again.err).toBe(0);
    expect(again.out + again.err).not.toMatch(STACK);
    const log = join(runDir, 'learner.ndjson');
    const [resume] = recordsOf<{ checkpoint: string; fromVersion: number }>(log, 'resume');
    expect(resume).toMatchObject({ fromVersion: olderVersion, checkpoint: older });
    const [skip] = recordsOf<{ file: string; reason: string }>(log, 'checkpoint-skipped');
    expect(skip).toMatchObject({ file: newest });
    expect(skip!.reason).toContain("section 'params' holds NaN");
  }, 420_000);

  it('an environment that throws in the final evaluation: summary.json is written with the evaluation marked failed', async () => {
    const brk = join(work, 'break-eval');
    const mod = join(work, 'evalcrash.mjs');
    // reset() throws in the process whose pid the break file holds (the learner's, from its log;
    // the actors are other processes): only the learner's final evaluation meets it.
    writeFileSync(
      mod,
      `import { existsSync, readFileSync } from 'node:fs';
const broken = () => existsSync(${JSON.stringify(brk)}) && readFileSync(${JSON.stringify(brk)}, 'utf8') === String(process.pid);
export const envs = {
  'EvalCrash-v0': {
    spec: { observationSize: 1, action: { type: 'discrete', n: 2 }, maxEpisodeSteps: 20 },
    create() {
      let t = 0;
      return {
        reset() { if (broken()) throw new Error('evaluation env broke on purpose'); t = 0; return [0]; },
        step(a) { t++; return { observation: [t / 20], reward: a === 1 ? 1 : 0, terminated: false, truncated: false }; },
      };
    },
  },
};
`,
    );
    const runDir = join(work, 'evalcrash');
    mkdirSync(work, { recursive: true });
    const t = startTrain([
      '--run-dir',
      runDir,
      '--env-module',
      mod,
      '--env',
      'EvalCrash-v0',
      ...smallRunArgs({ steps: 3000, quiet: true }),
    ]);
    await until(() => hasUpdate(runDir), 'the first update');
    const [update] = recordsOf<{ pid: number }>(join(runDir, 'learner.ndjson'), 'update');
    writeFileSync(brk, String(update!.pid));
    const code = await t.exit;
    const out = t.out();
    // Training finished, but the run did not deliver its final evaluation: exit 1, saying why.
    expect(code, out).toBe(1);
    expect(out).toContain('final evaluation FAILED: ');
    expect(out).toMatch(/isreshape train: the run failed: the final evaluation failed: .*evaluation env broke on purpose/);
    expect(out).toContain('evaluation env broke on purpose');
    expect(out).not.toMatch(STACK);
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as SummaryRecord;
    expect(summary.finalEval).toBeUndefined();
    expect(summary.finalEvalError).toContain('evaluation env broke on purpose');
    expect(summary.failed).toBe(true);
    expect(summary.envSteps).toBeGreaterThanOrEqual(3000);
    expect(logExists(join(runDir, 'learner.ndjson'))).toBe(true);
    expect(recordsOf(join(runDir, 'learner.ndjson'), 'final-eval-failed')).toHaveLength(1);
  }, 420_000);
});
