/**
 * Crash recovery with real processes: the learner (with a real actor on loopback) is killed with
 * SIGKILL at random moments (during start-up, between updates, in the middle of an update or a
 * checkpoint write) at least 20 times and resumed with `learner --resume` each time. Every resume
 * must load a valid checkpoint, versions must increase strictly over the whole log, no rollout or
 * step may be counted twice, and the run must finish its step budget.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, smallRunArgs, updatesIn } from '../helpers/cli.js';
import { readNdjsonLog, readRun } from '../../analysis/read.js';

const KILLS = 20;
/** Samples per update: 1 actor x 1 worker x 2 envs x 16 steps, one rollout per update. */
const SAMPLES = 32;
// Budget headroom: a session may train several updates between a planned kill and its landing.
const STEPS = 1000 * SAMPLES;
const SMALL = smallRunArgs({
  hidden: 16,
  workers: 1,
  'batch-segments': 1,
  'eval-episodes': 1,
  'final-eval-episodes': 2,
  'checkpoint-every': 2,
  steps: STEPS,
  seed: 5,
});

/** A seeded PRNG (mulberry32) for the kill moments: random, and the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type KillPlan = { afterMs: number } | { afterUpdates: number; extraMs: number } | null;

interface Session {
  code: number | null;
  signal: NodeJS.Signals | null;
  updates: number;
  ready: boolean;
  stderr: string;
  /** Killed by the guard: the session did not reach its planned kill or its end in time. */
  stuck: boolean;
}

function exited(p: ChildProcess): Promise<void> {
  return p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise((r) => p.once('exit', () => r()));
}

/** One learner process (new run or --resume) with one actor; killed with SIGKILL as planned. */
async function session(runDir: string, fresh: boolean, plan: KillPlan): Promise<Session> {
  const args = fresh
    ? ['learner', ...SMALL, '--run-dir', runDir, '--bind', 'tcp://127.0.0.1:0']
    : ['learner', '--resume', runDir, '--bind', 'tcp://127.0.0.1:0'];
  const learner = fork(CLI, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  const s: Session = { code: null, signal: null, updates: 0, ready: false, stderr: '', stuck: false };
  learner.stderr!.on('data', (d: Buffer) => {
    s.stderr += d.toString();
  });
  let actor: ChildProcess | null = null;
  const kill = () => {
    if (learner.exitCode === null && learner.signalCode === null) learner.kill('SIGKILL');
  };
  if (plan && 'afterMs' in plan) setTimeout(kill, plan.afterMs);
  const guard = setTimeout(() => {
    s.stuck = true;
    kill();
  }, 45_000);
  learner.on('message', (m: { type: string; endpoint?: string; records?: unknown[] }) => {
    if (m.type === 'ready') {
      s.ready = true;
      actor = spawn(
        process.execPath,
        [CLI, 'actor', '--resume', runDir, '--connect', m.endpoint!, '--actor-id', '0', '--idle-timeout', '20'],
        { stdio: 'ignore' },
      );
      if (plan && 'afterUpdates' in plan && plan.afterUpdates === 0) setTimeout(kill, plan.extraMs);
    } else if (updatesIn(m) > 0) {
      const before = s.updates;
      s.updates += updatesIn(m);
      if (plan && 'afterUpdates' in plan && before < plan.afterUpdates && s.updates >= plan.afterUpdates) setTimeout(kill, plan.extraMs);
    }
  });
  await exited(learner);
  clearTimeout(guard);
  s.code = learner.exitCode;
  s.signal = learner.signalCode;
  const a = actor as ChildProcess | null;
  if (a) {
    if (a.exitCode === null && a.signalCode === null) a.kill('SIGKILL');
    await exited(a);
  }
  return s;
}

describe('learner crash recovery (SIGKILL + --resume)', () => {
  let dir: string;
  beforeAll(() => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'isr-crash-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(`survives ${KILLS} SIGKILLs at random moments and finishes its budget`, async () => {
    const runDir = join(dir, 'run');
    const rand = rng(20261129);
    const sessions: Session[] = [];
    let kills = 0;
    while (kills < KILLS) {
      const u = rand();
      // The first session creates the run: killed once it trained (before its first checkpoint there is nothing to resume).
      const plan: KillPlan =
        sessions.length === 0
          ? { afterUpdates: 3, extraMs: 0 }
          : u < 0.2
            ? { afterMs: 200 + Math.floor(rand() * 1500) }
            : { afterUpdates: Math.floor(rand() * 5), extraMs: Math.floor(rand() * 40) };
      const s = await session(runDir, sessions.length === 0, plan);
      sessions.push(s);
      expect(s.stuck, `learner session ${sessions.length} made no progress: ${s.stderr}`).toBe(false);
      expect(s.code === 0 || s.signal === 'SIGKILL', `learner session ${sessions.length} failed (code ${s.code}): ${s.stderr}`).toBe(true);
      if (s.signal === 'SIGKILL') kills++;
      else break; // the budget was reached before the planned kill
    }
    expect(kills).toBe(KILLS);
    const last = await session(runDir, false, null);
    expect(last.stuck, last.stderr).toBe(false);
    expect(last.code, last.stderr).toBe(0);

    const log = join(runDir, 'learner.ndjson');
    // Read with the analysis reader, which skips a line a kill tore inside a write (the reopened
    // log starts its next record on a line of its own): at most one torn line per kill.
    const byKind = new Map<string, Record<string, unknown>[]>();
    const stats = await readNdjsonLog(log, (rec) => {
      const k = String(rec.kind);
      if (!byKind.has(k)) byKind.set(k, []);
      byKind.get(k)!.push(rec);
    });
    expect(stats.malformed).toBeLessThanOrEqual(kills);
    const records = <T>(kind: string): T[] => (byKind.get(kind) ?? []) as T[];
    // Every resume loaded a valid checkpoint: nothing was skipped, and each learner that
    // trained after the first session logged where it resumed from.
    expect(records('checkpoint-skipped')).toEqual([]);
    const resumes = records<{ fromVersion: number; version: number; envSteps: number }>('resume');
    const resumedAndTrained = [...sessions.slice(1), last].filter((s) => s.updates > 0).length;
    expect(resumes.length).toBeGreaterThanOrEqual(resumedAndTrained);
    const checkpoints = records<{ version: number; envSteps: number }>('checkpoint');
    for (const r of resumes) {
      expect(r.version).toBeGreaterThanOrEqual(r.fromVersion);
      const ck = checkpoints.find((c) => c.version === r.fromVersion);
      if (ck) expect(r.envSteps).toBe(ck.envSteps);
    }
    // Versions increase strictly over the whole log (a version is never reused).
    const versions = records<{ version: number }>('update').map((r) => r.version);
    for (let i = 1; i < versions.length; i++) expect(versions[i], `update ${i}`).toBeGreaterThan(versions[i - 1]);
    // Read as one run, the lost updates are gone and env steps increase strictly.
    const run = await readRun(runDir);
    for (let i = 1; i < run.updates.length; i++) {
      expect(run.updates[i].version).toBeGreaterThan(run.updates[i - 1].version);
      expect(run.updates[i].envSteps).toBe(run.updates[i - 1].envSteps + SAMPLES);
    }
    // Nothing counted twice: every trained rollout is SAMPLES steps, and every message received is accounted once.
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as {
      envSteps: number;
      trained: number;
      received: number;
      dropped: number;
      rejected: number;
      stopReason: string;
    };
    expect(summary.envSteps).toBe(summary.trained * SAMPLES);
    expect(summary.received).toBe(summary.trained + summary.dropped + summary.rejected);
    expect(summary.envSteps).toBeGreaterThanOrEqual(STEPS);
    expect(summary.stopReason).toContain('step budget');
    expect(run.updates.at(-1)!.envSteps).toBe(summary.envSteps);
    const lost = resumes.reduce((n, r) => n + r.version - r.fromVersion, 0);
    console.log(
      `crash test: ${kills} SIGKILLs, ${sessions.length + 1} learner sessions, ${resumes.length} resumes logged, ${lost} version numbers skipped for lost updates, ${summary.envSteps} steps, final version ${versions.at(-1)}`,
    );
  }, 170_000);
});
