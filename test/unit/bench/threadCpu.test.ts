/**
 * The end-to-end bench's CPU breakdown (bench/threadCpu.ts) on real processes and threads: a
 * root process (the launcher's place) forks a process named like the learner, whose worker
 * thread spins while its main thread sleeps. The spinning thread must be counted as the
 * trainer, the sleeping main thread as nearly nothing, and nothing may be lost from the total.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CPU_ROLES, startThreadCpuSampler } from '../../../bench/threadCpu.js';

const dir = mkdtempSync(join(tmpdir(), 'isr-threadcpu-'));
const LEARNER = join(dir, 'learner.mjs');
const ROOT = join(dir, 'root.mjs');
// The "learner": a worker thread spins for SPIN_MS of wall time; the main thread waits for it.
writeFileSync(
  LEARNER,
  `import { Worker } from 'node:worker_threads';
const w = new Worker('const t = Date.now(); let x = 0; while (Date.now() - t < ${1500}) x += Math.sqrt(x + 1);', { eval: true });
w.on('exit', () => process.exit(0));`,
);
writeFileSync(
  ROOT,
  `import { fork } from 'node:child_process';
const c = fork(${JSON.stringify(LEARNER)}, ['learner'], { stdio: 'ignore' });
c.on('exit', (code) => process.exit(code ?? 1));`,
);

describe('thread CPU sampler', () => {
  it.skipIf(process.platform !== 'linux')('counts a spinning worker thread of a learner process as the trainer', async () => {
    const child = spawn(process.execPath, [ROOT], { stdio: 'ignore' });
    const sampler = startThreadCpuSampler(child.pid!, 50);
    expect(sampler).not.toBeNull();
    const t0 = Date.now();
    await new Promise((resolve) => child.on('exit', resolve));
    // One more sample after the exit would find nothing: the window ends at the last one taken.
    const cpu = sampler!.stop(t0 - 1000, Date.now(), 1e6)!;
    // us per step x 1e6 steps = us of CPU; the spinning thread got some of its 1.5 s of wall time.
    const us = (x: number) => x * 1e6;
    expect(us(cpu.trainer)).toBeGreaterThan(100_000);
    expect(cpu.trainer).toBeGreaterThan(cpu.learnerMain);
    expect(cpu.actorMain).toBe(0);
    expect(cpu.envWorker).toBe(0);
    expect(cpu.total).toBeCloseTo(
      CPU_ROLES.reduce((a, r) => a + cpu[r], 0),
      12,
    );
  });

  it('returns null for an empty window', () => {
    const s = startThreadCpuSampler(process.pid, 1000);
    expect(s?.stop(0, 0, 0) ?? null).toBeNull();
  });
});
