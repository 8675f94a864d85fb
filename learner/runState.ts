/**
 * What a checkpoint holds and how a run resumes from it. A checkpoint (learner/checkpoint.ts
 * file format) is the learner's state (float64 parameters, Adam m/v/t, minibatch RNG, version)
 * plus the loop's (env steps, elapsed time, intake totals, return window, random baseline, last
 * evaluation, evaluation steps spent) plus what makes it self-describing (resolved config, model hash, code version), so
 * that `eval` and `export` need nothing else.
 *
 * Versions on resume: an update record in the log after the checkpoint belongs to updates lost
 * with the crash, and their parameters may have reached actors. A resumed run therefore never
 * reuses a version number: it starts at one past the highest version the log mentions (or at
 * the checkpoint's own version after a clean stop that logged nothing later), and its `resume`
 * record says which version it resumed from (`fromVersion`) so that analysis drops the lost
 * updates (analysis/read.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { EvalStat } from '../protocol/records.js';
import { fileTextSync, logSegments } from '../protocol/logFiles.js';
import type { RngState } from '../model/rng.js';
import type { IntakeCounts } from './intake.js';
import type { LearnerState } from './learner.js';
import { CorruptCheckpointError, type Checkpoint, type CheckpointMeta } from './checkpoint.js';

/** The loop's resumable state. */
export interface LoopState {
  envSteps: number;
  /** Training time so far, ms (all sessions). */
  elapsedMs: number;
  /** Intake totals (pending rollouts at the checkpoint are counted as dropped 'restart' on resume). */
  counts: IntakeCounts;
  returns: { last: number[]; episodes: number };
  randomReturn: number;
  lastEval: EvalStat | null;
  /**
   * Environment steps of every evaluation so far (the update records' `evalEnvSteps`), and of
   * those the --eval-share cap counts (periodic evaluations; target confirmations too before session 8), so that a
   * resumed run's cap holds over all its sessions. Absent in checkpoints written before they
   * were kept: such a resume counts from 0 (it says so in the log), not derived from the log.
   */
  evalEnvSteps?: number;
  evalCappedSteps?: number;
}

export interface RunCheckpointMeta extends CheckpointMeta, LoopState {
  rng: RngState;
  adamT: number;
  /** True for the checkpoint written when the loop stopped (budget, target, signal). */
  final: boolean;
  modelHash: number;
  /** package.json version, plus `git describe` when available. */
  codeVersion: string;
  /** The resolved run config (config.json). */
  config: Record<string, unknown>;
  savedAt: string;
}

const SECTIONS = ['params', 'adamM', 'adamV'] as const;

export function toCheckpoint(l: LearnerState, meta: Omit<RunCheckpointMeta, 'version' | 'rng' | 'adamT'>): Checkpoint {
  return {
    meta: { ...meta, version: l.version, rng: l.rng, adamT: l.adam.t },
    arrays: { params: l.params, adamM: l.adam.m, adamV: l.adam.v },
  };
}

/** The learner state and meta of a checkpoint; throws CorruptCheckpointError naming what is missing. */
export function fromCheckpoint(c: Checkpoint): { learner: LearnerState; meta: RunCheckpointMeta } {
  const m = c.meta as Partial<RunCheckpointMeta>;
  for (const s of SECTIONS) if (!c.arrays[s]) throw new CorruptCheckpointError(`no '${s}' section: not a learner checkpoint`);
  const need: (keyof RunCheckpointMeta)[] = ['envSteps', 'elapsedMs', 'counts', 'returns', 'rng', 'adamT', 'modelHash', 'config'];
  for (const k of need) if (m[k] === undefined || m[k] === null) throw new CorruptCheckpointError(`meta.${k} is missing`);
  if (!Array.isArray(m.rng) || m.rng.length !== 4) throw new CorruptCheckpointError('meta.rng is not four words');
  for (const k of ['evalEnvSteps', 'evalCappedSteps'] as const) {
    const v = m[k];
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0))
      throw new CorruptCheckpointError(`meta.${k} is not a number of steps`);
  }
  const meta = m as RunCheckpointMeta;
  return {
    meta,
    learner: {
      params: c.arrays.params,
      adam: { m: c.arrays.adamM, v: c.arrays.adamV, t: meta.adamT },
      rng: meta.rng,
      version: meta.version,
    },
  };
}

/**
 * Highest `version` of any record in an NDJSON log, every rotated segment of it included
 * (protocol/logFiles.ts; a cut-off last line is ignored); -1 when none. Versions only grow
 * through a log (a resumed learner numbers after all it logged), so the files are read newest
 * first and the first one holding a version answers: a resume reads one segment, not the run.
 */
export function maxLoggedVersion(file: string): number {
  for (const seg of logSegments(file).reverse()) {
    let max = -1;
    for (const line of fileTextSync(seg.path).split('\n')) {
      if (!line.includes('"version":')) continue;
      try {
        const v = (JSON.parse(line) as { version?: unknown }).version;
        if (typeof v === 'number' && Number.isInteger(v) && v > max) max = v;
      } catch {
        // a line cut short by a crash
      }
    }
    if (max >= 0) return max;
  }
  return -1;
}

/** The version a resumed learner starts at (see the module comment). */
export function resumeVersion(meta: Pick<RunCheckpointMeta, 'version' | 'final'>, maxLogged: number): number {
  if (meta.final && maxLogged <= meta.version) return meta.version;
  return Math.max(meta.version, maxLogged) + 1;
}

/** `version` of package.json, plus `git describe --always --dirty` when git answers quickly. */
export function codeVersion(): string {
  let pkgVersion = 'unknown';
  let dir = path.dirname(new URL(import.meta.url).pathname);
  for (let i = 0; i < 4; i++) {
    const f = path.join(dir, 'package.json');
    if (existsSync(f)) {
      pkgVersion = String((JSON.parse(readFileSync(f, 'utf8')) as { version?: unknown }).version ?? 'unknown');
      break;
    }
    dir = path.dirname(dir);
  }
  const git = spawnSync('git', ['describe', '--always', '--dirty'], { cwd: dir, encoding: 'utf8', timeout: 2000 });
  const described = git.status === 0 ? git.stdout.trim() : '';
  return described ? `${pkgVersion}+${described}` : pkgVersion;
}
