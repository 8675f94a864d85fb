/**
 * The end-to-end benchmarks' child run: `isreshape train ARGS --run-dir <tmp>/run` as a child
 * process of the built CLI, its output kept for the error, the run read back, the temporary
 * directory removed afterwards.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readRun, type RunData } from '../analysis/read.js';
import type { UpdateRecord } from '../protocol/records.js';

const CLI = fileURLToPath(new URL('../deploy/cli.js', import.meta.url));

/** Run `train` with `args` (no --run-dir: this adds one) and hand the finished run to `use`; `onSpawn` gets the child's pid. */
export async function withTrainRun<T>(
  args: string[],
  use: (run: RunData, runDir: string) => T | Promise<T>,
  onSpawn?: (pid: number) => void,
): Promise<T> {
  const dir = mkdtempSync(path.join(tmpdir(), 'isreshape-bench-'));
  const runDir = path.join(dir, 'run');
  try {
    const out: string[] = [];
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, 'train', ...args, '--run-dir', runDir], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.on('data', (d: Buffer) => out.push(d.toString()));
      child.stderr.on('data', (d: Buffer) => out.push(d.toString()));
      if (child.pid !== undefined) onSpawn?.(child.pid);
      child.on('error', reject);
      child.on('exit', (c) => resolve(c ?? 1));
    });
    if (code !== 0) throw new Error(`train exited ${code}:\n${out.join('')}`);
    return await use(await readRun(runDir), runDir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Environment steps per second between the first and the last of `updates` (null when they span no time). */
export function steadyStepsPerSecond(updates: readonly UpdateRecord[]): number | null {
  const first = updates[0],
    last = updates[updates.length - 1];
  return first && last && last.time > first.time ? ((last.envSteps - first.envSteps) * 1000) / (last.time - first.time) : null;
}
