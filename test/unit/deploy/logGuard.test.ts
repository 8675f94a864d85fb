/**
 * A log whose writes fail (deploy/logging.ts) on a real device that is always full (/dev/full:
 * every write is ENOSPC): logging never throws into the caller, the failure is told in one line,
 * the lines from then on are held and the final attempt (logger.flush) says what was lost; a
 * log on a writable file is complete and says nothing.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger, logHealth } from '../../../deploy/logging.js';

const base = { role: 'learner', backend: 'js', runId: 'r' };
const flush = (l: ReturnType<typeof createLogger>) => new Promise<void>((r) => l.flush(() => r()));

describe.skipIf(!existsSync('/dev/full'))('a log on a full device (/dev/full)', () => {
  it('one line at the first failure, nothing thrown, the final attempt reports the lines lost', async () => {
    const lines: string[] = [];
    const log = createLogger('/dev/full', base, { onFailure: (l) => lines.push(l) });
    for (let i = 0; i < 100; i++) log.info({ kind: 'update', version: i });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^isreshape learner: log \/dev\/full cannot be written \(ENOSPC: no space left on device, write\): logging stops here and the run goes on/,
    );
    expect(logHealth(log)).toEqual({ file: '/dev/full', error: 'ENOSPC: no space left on device, write', unwritten: 100 });
    await flush(log);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe(
      'isreshape learner: log /dev/full: the final attempt failed too (ENOSPC: no space left on device, write): 100 lines were not written',
    );
    expect(logHealth(log)!.unwritten).toBe(100);
  });
});

describe('a log on a writable file', () => {
  it('is complete and says nothing', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'isr-logguard-')), 'x.ndjson');
    const lines: string[] = [];
    const log = createLogger(file, base, { onFailure: (l) => lines.push(l) });
    for (let i = 0; i < 10; i++) log.info({ kind: 'update', version: i });
    await flush(log);
    expect(lines).toEqual([]);
    expect(logHealth(log)).toEqual({ file, error: null, unwritten: 0 });
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(10);
  });
});
