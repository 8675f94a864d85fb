/** removeStalePrivateDirs: which private socket folders a launcher removes, on a scratch base folder. */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OWNER_FILE, privateEndpoint, removeStalePrivateDirs } from '../../../deploy/launcher.js';

const base = mkdtempSync(join(tmpdir(), 'isr-stale-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** A pid that existed and has exited (its reuse within this test is not a concern on a 2^22 pid space). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

function folder(name: string, pids: number[] | null, mode = 0o700): string {
  const d = join(base, name);
  mkdirSync(d);
  if (pids !== null) writeFileSync(join(d, OWNER_FILE), pids.map((p) => `${p}\n`).join(''));
  writeFileSync(join(d, 'learner.sock'), '');
  chmodSync(d, mode);
  return d;
}

describe('removeStalePrivateDirs', () => {
  it('removes only isreshape-* folders of mode 0700 whose listed processes are all gone', () => {
    const dead = deadPid();
    const stale = folder('isreshape-stale1', [dead]);
    const staleBoth = folder('isreshape-stale2', [dead, deadPid()]);
    const live = folder('isreshape-live', [process.pid]);
    const learnerLive = folder('isreshape-learnerlive', [dead, process.pid]);
    const noOwner = folder('isreshape-noowner', null);
    const open = folder('isreshape-open', [dead], 0o755);
    const other = folder('other-stale', [dead]);
    const garbage = folder('isreshape-garbage', []);
    writeFileSync(join(garbage, OWNER_FILE), 'not a pid\n');
    symlinkSync(stale, join(base, 'isreshape-link'));
    expect(removeStalePrivateDirs(base).sort()).toEqual([stale, staleBoth].sort());
    for (const d of [live, learnerLive, noOwner, open, other, garbage]) expect(existsSync(d), d).toBe(true);
    expect(existsSync(stale)).toBe(false);
    expect(removeStalePrivateDirs(base)).toEqual([]);
    expect(removeStalePrivateDirs(join(base, 'missing'))).toEqual([]);
  });

  it("privateEndpoint writes this process's pid into its folder", () => {
    const p = privateEndpoint();
    try {
      expect(p.endpoint).toBe(`ipc://${join(p.dir, 'learner.sock')}`);
      expect(readFileSync(join(p.dir, OWNER_FILE), 'utf8')).toBe(`${process.pid}\n`);
    } finally {
      rmSync(p.dir, { recursive: true, force: true });
    }
  });
});
