/**
 * A `train` killed by SIGKILL cannot remove its private ipc:// socket folder (a 0700
 * /tmp/isreshape-XXXXXX, deploy/launcher.ts privateEndpoint): the next `train` removes it, once
 * the killed launcher and its learner are gone, and nothing else (a folder whose owner lives,
 * one without an owner file).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, recordsOf, runCli, smallRunArgs, startTrain, until } from '../helpers/cli.js';
import { OWNER_FILE, privateBase } from '../../deploy/launcher.js';

let dir = '';
const controls: string[] = [];
beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(privateBase(), 'isr-stale-ipc-'));
}, 300_000);
afterAll(() => {
  for (const d of [dir, ...controls]) rmSync(d, { recursive: true, force: true });
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('stale private socket folders', () => {
  it('a SIGKILLed train leaves its folder; the next train removes it, and only it', async () => {
    const runA = join(dir, 'killed');
    const a = startTrain(['--run-dir', runA, ...smallRunArgs({ steps: 10_000_000, quiet: true })]);
    const learnerLog = join(runA, 'learner.ndjson');
    await until(() => existsSync(learnerLog) && readFileSync(learnerLog, 'utf8').includes('"kind":"update"'), 'the first update');
    const sock = /learner on ipc:\/\/(\S+)\/learner\.sock/.exec(a.out())![1]!;
    const owners = readFileSync(join(sock, OWNER_FILE), 'utf8').trim().split('\n').map(Number);
    const learnerPid = recordsOf<{ pid: number }>(learnerLog, 'update')[0]!.pid;
    expect(owners).toEqual([a.pid, learnerPid]);
    a.kill('SIGKILL');
    await a.exit;
    // The orphaned learner stops by itself (its launcher's IPC channel closed); the folder stays.
    await until(() => !alive(learnerPid), 'the learner to exit', 1200);
    expect(existsSync(sock)).toBe(true);

    // Beside it: a folder whose owner lives (this test process), and one without an owner file.
    const live = mkdtempSync(join(privateBase(), 'isreshape-'));
    const unowned = mkdtempSync(join(privateBase(), 'isreshape-'));
    controls.push(live, unowned);
    chmodSync(live, 0o700);
    chmodSync(unowned, 0o700);
    writeFileSync(join(live, OWNER_FILE), `${process.pid}\n`);

    const runB = join(dir, 'next');
    const b = await runCli(['train', '--run-dir', runB, ...smallRunArgs({ steps: 300, quiet: true })]);
    expect(b.code, b.out + b.err).toBe(0);
    expect(existsSync(sock)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(unowned)).toBe(true);
    const [rec] = recordsOf<{ dirs: string[] }>(join(runB, 'launcher.ndjson'), 'stale-ipc-removed');
    expect(rec!.dirs).toContain(sock);
    // B's own folder went at its end, as always.
    const sockB = /learner on ipc:\/\/(\S+)\/learner\.sock/.exec(b.out)![1]!;
    expect(existsSync(sockB)).toBe(false);
  }, 300_000);
});
