/**
 * Where an end-to-end run's CPU goes: every thread of a `train` child and its descendants (the
 * learner and actor processes), sampled from /proc every `intervalMs`, then CPU time (user +
 * system) per environment step over the run's steady window, by role:
 * - learner main (receive, decode, validate, verify claims, build batches, publish, log);
 * - trainer (the learner's busiest other thread: gradients and the optimiser at L = 1);
 * - actor main (worker tasks, encode, send, parameters in);
 * - env worker (the actor's busiest other thread: environments and the policy's forward pass);
 * - ZeroMQ I/O (the `ZMQbg/IO` threads of both);
 * - runtime helpers (every other thread: V8's garbage collector and compiler threads, libuv);
 * - launcher (the `train` process itself, and any other descendant).
 * The "busiest other thread" rule names the trainer and the env worker at 1 learner thread and
 * 1 worker, the runs this is for; with more it counts the others as helpers.
 *
 * Linux only (/proc); elsewhere `start` returns null. Ticks are USER_HZ (sysconf(_SC_CLK_TCK)),
 * 100 on Linux: at 100 ms sampling and a window of seconds, each figure is good to a few percent.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

export const CPU_ROLES = ['learnerMain', 'trainer', 'actorMain', 'envWorker', 'zmqIo', 'runtimeHelpers', 'launcher'] as const;
export type CpuRole = (typeof CPU_ROLES)[number];
/** Microseconds of CPU per environment step, by role, and their sum. */
export type CpuPerStep = Record<CpuRole, number> & { total: number };

type ProcessRole = 'learner' | 'actor' | 'launcher' | 'other';

interface ThreadSeries {
  pid: number;
  tid: number;
  zmq: boolean;
  /** [epoch ms, ticks] */
  points: Array<[number, number]>;
}

function ticksPerSecond(): number {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 });
  const n = Number(r.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
}

function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function processOf(pid: number, root: number): ProcessRole {
  if (pid === root) return 'launcher';
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (argv.includes('learner')) return 'learner';
    if (argv.includes('actor')) return 'actor';
  } catch {
    // gone
  }
  return 'other';
}

export interface ThreadCpuSampler {
  /** Stop sampling; CPU per environment step between epoch ms `from` and `to` over `steps` steps. */
  stop(from: number, to: number, steps: number): CpuPerStep | null;
}

/** Sample the threads of `root` and its descendants until `stop`; null where /proc is missing. */
export function startThreadCpuSampler(root: number, intervalMs = 100): ThreadCpuSampler | null {
  try {
    readdirSync('/proc/self/task');
  } catch {
    return null;
  }
  const hz = ticksPerSecond();
  const series = new Map<number, ThreadSeries>();
  // A forked process shows its parent's command line until it has exec'd: asked again until it names a role.
  const roles = new Map<number, ProcessRole>();
  const sample = () => {
    const now = Date.now();
    const pids = [root];
    for (let i = 0; i < pids.length; i++) pids.push(...children(pids[i]!));
    for (const pid of pids) {
      if (roles.get(pid) === undefined || roles.get(pid) === 'other') roles.set(pid, processOf(pid, root));
      let tids: string[];
      try {
        tids = readdirSync(`/proc/${pid}/task`);
      } catch {
        continue;
      }
      for (const t of tids) {
        const tid = Number(t);
        try {
          const st = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
          const comm = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
          const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
          // Fields 14 and 15 of stat (utime, stime): 11 and 12 after the state field.
          const ticks = Number(f[11]) + Number(f[12]);
          let s = series.get(tid);
          if (!s) {
            s = { pid, tid, zmq: comm.startsWith('ZMQbg'), points: [] };
            series.set(tid, s);
          }
          s.points.push([now, ticks]);
        } catch {
          // the thread ended between the listing and the read
        }
      }
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop(from, to, steps) {
      clearInterval(timer);
      if (!(steps > 0) || !(to > from)) return null;
      // Ticks at the last sample at or before t (0 before the thread's first sample).
      const at = (s: ThreadSeries, t: number) => {
        let v = 0;
        for (const [tt, j] of s.points) if (tt <= t) v = j;
        return v;
      };
      const us = (s: ThreadSeries) => ((at(s, to) - at(s, from)) * 1e6) / hz / steps;
      const out = Object.fromEntries(CPU_ROLES.map((r) => [r, 0])) as Record<CpuRole, number>;
      const busiest = new Map<number, number>(); // pid -> tid of its busiest non-main, non-ZeroMQ thread
      for (const s of series.values()) {
        if (s.tid === s.pid || s.zmq) continue;
        const b = busiest.get(s.pid);
        if (b === undefined || us(s) > us(series.get(b)!)) busiest.set(s.pid, s.tid);
      }
      for (const s of series.values()) {
        const x = us(s);
        const process = roles.get(s.pid) ?? 'other';
        const role: CpuRole =
          process === 'launcher' || process === 'other'
            ? 'launcher'
            : s.zmq
              ? 'zmqIo'
              : s.tid === s.pid
                ? process === 'learner'
                  ? 'learnerMain'
                  : 'actorMain'
                : busiest.get(s.pid) === s.tid
                  ? process === 'learner'
                    ? 'trainer'
                    : 'envWorker'
                  : 'runtimeHelpers';
        out[role] += x;
      }
      return { ...out, total: CPU_ROLES.reduce((a, r) => a + out[r], 0) };
    },
  };
}
