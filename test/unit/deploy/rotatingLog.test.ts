/**
 * The rotating learner log (deploy/rotatingLog.ts) and its one reader (protocol/logFiles.ts), on
 * real files: segments numbered oldest first, each within the limit unless one line is larger,
 * no line lost or split, .gz segments that decompress, a leftover uncompressed segment read, and
 * numbering that continues when the log is reopened (resume).
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { RotatingLog } from '../../../deploy/rotatingLog.js';
import { createDeferredLogger, createLogger } from '../../../deploy/logging.js';
import { fileLines, logLines, logLinesSync, logSegments } from '../../../protocol/logFiles.js';
import { readNdjsonLog } from '../../../analysis/read.js';
import { maxLoggedVersion } from '../../../learner/runState.js';
import { tmp } from './helpers.js';

const LIMIT = 1000;

/** A line of `n` bytes (newline included) naming `i`. */
function line(i: number, n = 60 + (i % 7) * 13): string {
  const head = JSON.stringify({ kind: 'update', version: i, pad: '' });
  return head.slice(0, -2) + 'x'.repeat(Math.max(0, n - head.length - 1)) + '"}\n';
}

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const l of it) out.push(l);
  return out;
}

/** Every segment's text in reading order, decompressed. */
function texts(file: string): string[] {
  return logSegments(file).map((s) => {
    const b = readFileSync(s.path);
    return (s.gz ? gunzipSync(b) : b).toString('utf8');
  });
}

describe('RotatingLog', () => {
  it('rotates before the limit at line boundaries, numbers segments oldest first and gzips them', async () => {
    const dir = tmp('isr-rot-');
    const file = join(dir, 'learner.ndjson');
    const log = new RotatingLog(file, { maxBytes: LIMIT });
    const written: string[] = [];
    for (let i = 0; i < 200; i++) {
      const l = i === 77 ? line(i, 2500) : line(i); // one line larger than the limit
      written.push(l);
      log.write(l);
    }
    await log.close();
    const names = readdirSync(dir).sort();
    expect(names.filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(names.filter((n) => /^learner\.\d+\.ndjson$/.test(n))).toEqual([]); // every segment compressed, the plain copy removed
    const segs = logSegments(file);
    expect(segs.length).toBeGreaterThan(10);
    expect(segs.slice(0, -1).map((s) => s.k)).toEqual(segs.slice(0, -1).map((_, i) => i + 1));
    expect(segs.slice(0, -1).every((s) => s.gz && s.path.endsWith(`learner.${s.k}.ndjson.gz`))).toBe(true);
    expect(segs.at(-1)).toEqual({ path: file, k: null, gz: false });
    const parts = texts(file);
    // Concatenated in order: exactly what was written, every line whole in one file.
    expect(parts.join('')).toBe(written.join(''));
    let oversize = 0;
    for (const t of parts) {
      expect(t.endsWith('\n')).toBe(true);
      const n = Buffer.byteLength(t);
      if (n > LIMIT) {
        oversize++;
        expect(t).toBe(written[77]); // only the single oversize line, alone
      }
    }
    expect(oversize).toBe(1);
    // The reader sees every line once, in order (async and sync).
    const want = written.map((l) => l.slice(0, -1));
    expect(await collect(logLines(file))).toEqual(want);
    expect([...logLinesSync(file)]).toEqual(want);
    const versions: number[] = [];
    const stats = await readNdjsonLog(file, (r) => versions.push(r.version as number));
    expect(versions).toEqual(written.map((_, i) => i));
    expect(stats).toMatchObject({ path: file, lines: 200, parsed: 200, malformed: 0, truncatedLast: false });
    expect(maxLoggedVersion(file)).toBe(199);
  });

  it('continues the numbering after the highest segment when reopened, and appends to the active file', async () => {
    const dir = tmp('isr-rot-');
    const file = join(dir, 'learner.ndjson');
    const a = new RotatingLog(file, { maxBytes: LIMIT });
    for (let i = 0; i < 40; i++) a.write(line(i));
    await a.close();
    const before = a.segments;
    expect(before).toBeGreaterThan(1);
    const activeBefore = readFileSync(file, 'utf8');
    const b = new RotatingLog(file, { maxBytes: LIMIT });
    expect(b.segments).toBe(before);
    for (let i = 40; i < 80; i++) b.write(line(i));
    await b.close();
    expect(b.segments).toBeGreaterThan(before);
    const segs = logSegments(file);
    expect(segs.map((s) => s.k)).toEqual([...Array.from({ length: b.segments }, (_, i) => i + 1), null]);
    // The first rotation after reopening took the old active file's lines with it.
    expect(
      gunzipSync(readFileSync(join(dir, `learner.${before + 1}.ndjson.gz`)))
        .toString()
        .startsWith(activeBefore),
    ).toBe(true);
    expect([...logLinesSync(file)].map((l) => (JSON.parse(l) as { version: number }).version)).toEqual(
      Array.from({ length: 80 }, (_, i) => i),
    );
  });

  it('reads a leftover uncompressed segment, prefers a complete .gz, and finishes both on reopening', async () => {
    const dir = tmp('isr-rot-');
    const file = join(dir, 'learner.ndjson');
    // A crash left: segment 1 compressed and its plain copy not yet removed; segment 2 not
    // compressed at all; a half-written .gz.tmp of segment 2; the active file.
    writeFileSync(join(dir, 'learner.1.ndjson.gz'), gzipSync(line(0) + line(1)));
    writeFileSync(join(dir, 'learner.1.ndjson'), line(0) + line(1));
    writeFileSync(join(dir, 'learner.2.ndjson'), line(2) + line(3));
    writeFileSync(join(dir, 'learner.2.ndjson.gz.tmp'), gzipSync(line(2)).subarray(0, 10));
    writeFileSync(file, line(4));
    expect(logSegments(file).map((s) => [s.k, s.gz])).toEqual([
      [1, true],
      [2, false],
      [null, false],
    ]);
    const versions = (ls: Iterable<string>) => [...ls].map((l) => (JSON.parse(l) as { version: number }).version);
    expect(versions(logLinesSync(file))).toEqual([0, 1, 2, 3, 4]);
    expect(versions(await collect(logLines(file)))).toEqual([0, 1, 2, 3, 4]);

    const log = new RotatingLog(file, { maxBytes: LIMIT });
    await log.drain();
    expect(readdirSync(dir).sort()).toEqual(['learner.1.ndjson.gz', 'learner.2.ndjson.gz', 'learner.ndjson']);
    log.write(line(5));
    await log.close();
    expect(versions(logLinesSync(file))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(log.segments).toBe(2);
  });

  it('never rotates with maxBytes 0, and a truncated last line is reported as such', async () => {
    const dir = tmp('isr-rot-');
    const file = join(dir, 'learner.ndjson');
    const log = new RotatingLog(file, { maxBytes: 0 });
    for (let i = 0; i < 100; i++) log.write(line(i));
    log.write('{"kind":"upd');
    await log.close();
    expect(logSegments(file)).toEqual([{ path: file, k: null, gz: false }]);
    const end = { newline: true };
    const got = await collect(fileLines(file, end));
    expect(got).toHaveLength(101);
    expect(end.newline).toBe(false);
    const stats = await readNdjsonLog(file, () => {});
    expect(stats).toMatchObject({ parsed: 100, malformed: 0, truncatedLast: true });
  });

  it('reopened after a write torn by a kill, ends the fragment so the next record is a line of its own', async () => {
    // Reopened with no limit, and with a limit the newline alone would cross: no rotation may
    // come between the fragment and its newline.
    for (const limit of ['none', 'at the torn size'] as const) {
      const dir = tmp('isr-rot-');
      const file = join(dir, 'learner.ndjson');
      const first = new RotatingLog(file, { maxBytes: 0 });
      for (let i = 0; i < 5; i++) first.write(line(i));
      first.write('{"kind":"update","version":5,"w'); // the process dies here
      const reopened = new RotatingLog(file, { maxBytes: limit === 'none' ? 0 : statSync(file).size });
      for (let i = 6; i < 9; i++) reopened.write(line(i));
      await reopened.close();
      const lines = [...logLinesSync(file)];
      expect(lines, limit).toHaveLength(9);
      expect(lines[5]).toBe('{"kind":"update","version":5,"w');
      expect(lines.slice(6).map((l) => JSON.parse(l) as unknown)).toEqual([6, 7, 8].map((i) => JSON.parse(line(i)) as unknown));
      const stats = await readNdjsonLog(file, () => {});
      expect(stats, limit).toMatchObject({ parsed: 8, malformed: 1, truncatedLast: false });
    }
  });

  it("the actor's deferred logger also ends a torn last line before appending its first record", () => {
    const dir = tmp('isr-rot-');
    const file = join(dir, 'actor-0.ndjson');
    writeFileSync(file, line(0) + '{"kind":"actor-st'); // the earlier actor was killed mid-write
    const d = createDeferredLogger({ role: 'actor', backend: 'js', runId: 'pending' });
    d.logger.info({ kind: 'actor-start' }, 'kept until open');
    d.open(file, 'run-1');
    d.logger.info({ kind: 'actor-stats' }, 'written');
    d.logger.flush();
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines).toHaveLength(5); // 4 lines and the empty string after the last newline
    expect(lines[1]).toBe('{"kind":"actor-st');
    const recs = lines.slice(2, 4).map((l) => JSON.parse(l) as { kind: string; runId: string });
    expect(recs.map((r) => [r.kind, r.runId])).toEqual([
      ['actor-start', 'run-1'],
      ['actor-stats', 'run-1'],
    ]);
  });

  it('is the learner logger: pino lines through a small --log-max-mb rotate, flush waits for compression', async () => {
    const dir = tmp('isr-rot-');
    const file = join(dir, 'learner.ndjson');
    const logger = createLogger(file, { role: 'learner', backend: 'cpu', runId: 'r' }, { maxMb: 0.002 });
    for (let i = 0; i < 300; i++) logger.info({ kind: 'update', version: i, pad: 'y'.repeat(i % 50) }, 'update');
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
    const segs = logSegments(file);
    expect(segs.length).toBeGreaterThan(5);
    for (const s of segs.slice(0, -1)) {
      expect(s.gz).toBe(true);
      expect(existsSync(s.path.replace(/\.gz$/, ''))).toBe(false);
    }
    for (const t of texts(file)) expect(Buffer.byteLength(t)).toBeLessThanOrEqual(Math.round(0.002 * 1024 * 1024));
    expect(statSync(file).size).toBeGreaterThan(0);
    const recs = [...logLinesSync(file)].map((l) => JSON.parse(l) as { version: number; role: string; runId: string });
    expect(recs.map((r) => r.version)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(recs.every((r) => r.role === 'learner' && r.runId === 'r')).toBe(true);
  });
});
