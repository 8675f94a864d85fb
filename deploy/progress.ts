/** The one-line progress display and the final summary of `isreshape train`. */
import type { EvalStat, SummaryRecord, UpdateRecord } from '../protocol/records.js';

const f1 = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(1));
const kSteps = (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n));

/**
 * `v 120 | 30.7k/100k steps | 1234 fps | return 260.0 | eval 500.0/500.0 (v120) | ESS 0.998 | KL 1.2e-3 | lag 0/0.5/1 | H 0.52`:
 * behaviour return (actors), then the latest evaluation of the current policy (sampling/greedy).
 */
export function formatProgress(r: UpdateRecord, budget: number, lastEval?: EvalStat): string {
  const e = r.eval ?? lastEval;
  const ev = e ? `eval ${f1(e.stochastic)}/${f1(e.greedy)} (v${e.version})` : 'eval -';
  return [
    `v ${r.version}`,
    `${kSteps(r.envSteps)}/${kSteps(budget)} steps${r.evalEnvSteps ? ` (+${kSteps(r.evalEnvSteps)} eval)` : ''}`,
    `${Math.round(r.fps)} fps`,
    `return ${f1(r.return.mean100)}`,
    ev,
    `ESS ${r.ess.toFixed(3)}`,
    `KL ${r.klMuPiK3.toExponential(1)}`,
    `lag ${r.lag.min}/${r.lag.mean.toFixed(1)}/${r.lag.max}`,
    `H ${r.entropy.toFixed(2)}${r.collapsed ? ' COLLAPSED' : ''}`,
  ].join(' | ');
}

/** m:ss, or h:mm:ss from an hour. */
export function clock(ms: number): string {
  const t = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = String(t % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/**
 * The TTY progress line: percentage of the step budget, elapsed time and ETA (elapsed times the
 * steps left over the steps done, so it assumes the rate so far holds), then the fields of
 * formatProgress, as many whole fields as fit in `columns` - 1 characters (never cut mid-field).
 */
export function formatProgressTty(
  r: UpdateRecord,
  budget: number,
  lastEval: EvalStat | undefined,
  o: { elapsedMs: number; columns: number },
): string {
  const frac = budget > 0 ? Math.min(1, r.envSteps / budget) : 0;
  const eta = r.envSteps > 0 && frac < 1 ? clock((o.elapsedMs * (budget - r.envSteps)) / r.envSteps) : frac >= 1 ? '0:00' : '-';
  const head = `${(frac * 100).toFixed(0).padStart(3)}% ${clock(o.elapsedMs)} ETA ${eta}`;
  const fields = [head, ...formatProgress(r, budget, lastEval).split(' | ')];
  const max = Math.max(10, o.columns - 1);
  let line = '';
  for (const f of fields) {
    const next = line === '' ? f : `${line} | ${f}`;
    if (next.length > max) break;
    line = next;
  }
  return line === '' ? head.slice(0, max) : line;
}

export function formatSummary(s: SummaryRecord, runDir: string): string {
  const fe = s.finalEval;
  return [
    `finished: ${s.stopReason}`,
    `  updates ${s.version}, environment steps ${s.envSteps} (training)${s.evalEnvSteps !== undefined ? ` + ${s.evalEnvSteps} (evaluation)` : ''}, wall ${s.wallSeconds.toFixed(1)} s`,
    fe
      ? `  final evaluation of the current policy over ${fe.episodes} episodes: mean return ${f1(fe.stochastic)} (sampling), ${f1(fe.greedy)} (greedy); random policy ${f1(s.randomReturn)}`
      : s.finalEvalError !== undefined
        ? `  final evaluation FAILED: ${s.finalEvalError}`
        : '  no final evaluation',
    `  behaviour return (actors, last 100 episodes): ${f1(s.return.mean100)} over ${s.return.episodes} episodes`,
    `  rollouts: received ${s.received}, trained ${s.trained}, dropped ${s.dropped}, rejected ${s.rejected}, lost ${s.lost}`,
    `  run directory: ${runDir}  (isreshape analyze ${runDir})`,
  ].join('\n');
}

/** What `formatSweepProgress` shows: the sweep's cells and the training steps of those running. */
export interface SweepProgress {
  /** Cells finished (skipped as done before included), of `total`. */
  done: number;
  total: number;
  failed: number;
  /** Cells to run in this invocation (total minus those done before) and how many of them have finished. */
  toRun: number;
  finishedHere: number;
  /** Steps budget of every cell. */
  steps: number;
  /** The cells running now, with the training steps their learner logged so far. */
  running: ReadonlyArray<{ name: string; envSteps: number }>;
  elapsedMs: number;
}

/**
 * `sweep  12% 1:05 ETA 7:40 | 3/24 cells done, 0 failed | running: ppo_lag0_seed1 12.3k/60k, ...`.
 * The percentage counts training steps of the cells this invocation runs: a finished cell counts
 * its whole budget (it may have stopped early at the target), a running one the steps its learner
 * logged. ETA: elapsed times the steps left over the steps done (assumes the rate so far holds).
 * With `columns`, whole fields and running cells are kept while they fit in columns - 1 characters.
 */
export function formatSweepProgress(p: SweepProgress, columns?: number): string {
  const budget = p.toRun * p.steps;
  const doneSteps = p.finishedHere * p.steps + p.running.reduce((a, r) => a + Math.min(p.steps, r.envSteps), 0);
  const frac = budget > 0 ? Math.min(1, doneSteps / budget) : 1;
  const eta = frac >= 1 ? '0:00' : doneSteps > 0 ? clock((p.elapsedMs * (budget - doneSteps)) / doneSteps) : '-';
  const head = `sweep ${(frac * 100).toFixed(0).padStart(3)}% ${clock(p.elapsedMs)} ETA ${eta}`;
  const cells = `${p.done}/${p.total} cells done, ${p.failed} failed`;
  const parts = p.running.map((r) => `${r.name} ${kSteps(r.envSteps)}/${kSteps(p.steps)}`);
  const full = [head, cells, ...(parts.length > 0 ? [`running: ${parts.join(', ')}`] : [])].join(' | ');
  if (columns === undefined || full.length <= columns - 1) return full;
  const max = Math.max(10, columns - 1);
  let line = head.length <= max ? head : head.slice(0, max);
  if (`${line} | ${cells}`.length <= max) line = `${line} | ${cells}`;
  else return line;
  let shown = 0;
  for (let n = 1; n <= parts.length; n++) {
    const more = parts.length - n;
    if (`${line} | running: ${parts.slice(0, n).join(', ')}${more > 0 ? `, +${more}` : ''}`.length > max) break;
    shown = n;
  }
  if (shown > 0) line = `${line} | running: ${parts.slice(0, shown).join(', ')}${shown < parts.length ? `, +${parts.length - shown}` : ''}`;
  else if (parts.length > 0 && `${line} | ${parts.length} running`.length <= max) line = `${line} | ${parts.length} running`;
  return line;
}

/** What a standalone learner's status line shows. */
export interface LearnerStatus {
  elapsedMs: number;
  version: number;
  envSteps: number;
  budget: number;
  /** Training steps per second since the previous status line. */
  stepsPerSec: number;
  /** Actors registered now (hello answered, not yet silent for 5 heartbeats). */
  actors: number;
  trained: number;
  dropped: number;
  rejected: number;
  lastEval?: EvalStat;
}

/**
 * `isreshape learner: 2:30 | v 120 | 30.7k/100k steps | 1234 steps/s | 2 actors | rollouts trained 240, dropped 0, rejected 0 | eval 500.0/500.0 (v120)`:
 * the periodic line of a learner started alone (`--status-every`).
 */
export function formatLearnerStatus(s: LearnerStatus): string {
  const e = s.lastEval;
  return [
    `isreshape learner: ${clock(s.elapsedMs)}`,
    `v ${s.version}`,
    `${kSteps(s.envSteps)}/${kSteps(s.budget)} steps`,
    `${Math.round(s.stepsPerSec)} steps/s`,
    `${s.actors} actor${s.actors === 1 ? '' : 's'}`,
    `rollouts trained ${s.trained}, dropped ${s.dropped}, rejected ${s.rejected}`,
    e ? `eval ${f1(e.stochastic)}/${f1(e.greedy)} (v${e.version})` : 'eval -',
  ].join(' | ');
}
