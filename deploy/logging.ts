/**
 * NDJSON logs: one pino file per process in the run directory. Every line carries the role,
 * the tensor backend and the run id (the log schema in README.md and protocol/records.ts).
 * Synchronous writes: a killed process loses at most the line being written. With `maxMb` the
 * file is rotated and its segments gzip-compressed (deploy/rotatingLog.ts; read them with
 * protocol/logFiles.ts); `logger.flush(cb)` then calls back once pending compressions finish.
 */
import { pino, type Logger } from 'pino';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { RotatingLog } from './rotatingLog.js';

export interface LoggerOptions {
  /** Rotate the file before it would exceed this many MiB (0 or absent: never). */
  maxMb?: number;
}

export function createLogger(file: string, base: { role: string; backend: string; runId: string }, opts: LoggerOptions = {}): Logger {
  mkdirSync(path.dirname(file), { recursive: true });
  const dest =
    opts.maxMb !== undefined && opts.maxMb > 0
      ? new RotatingLog(file, { maxBytes: Math.max(1, Math.round(opts.maxMb * 1024 * 1024)) })
      : pino.destination({ dest: file, sync: true, mkdir: true });
  return pino({ base: { ...base, pid: process.pid }, timestamp: pino.stdTimeFunctions.epochTime }, dest);
}

/** A logger whose file is chosen later (`open`): lines written before are kept and written first. */
export interface DeferredLogger {
  logger: Logger;
  /** Start writing to `file` (appended to when it exists), every line stamped with `runId`, the kept lines too. */
  open(file: string, runId: string): void;
  /** The file opened, or null before `open`. */
  readonly file: string | null;
}

/**
 * A logger for a process that learns its run id and log folder after it starts (an actor started
 * alone, named after its learner's run once it has joined): every line carries the role, the
 * backend and the run id, which is `base.runId` until `open` gives the final one; the lines
 * logged before `open` are kept in memory and rewritten with that run id.
 */
export function createDeferredLogger(base: { role: string; backend: string; runId: string }): DeferredLogger {
  let runId = base.runId;
  let dest: ReturnType<typeof pino.destination> | null = null;
  let file: string | null = null;
  const kept: string[] = [];
  const sink = {
    write(s: string): boolean {
      if (dest) dest.write(s);
      else kept.push(s);
      return true;
    },
    flush(cb?: (e?: Error) => void): void {
      dest?.flushSync();
      cb?.();
    },
  };
  const logger = pino(
    {
      base: { role: base.role, backend: base.backend, pid: process.pid },
      mixin: () => ({ runId }),
      timestamp: pino.stdTimeFunctions.epochTime,
    },
    sink,
  );
  return {
    logger,
    get file() {
      return file;
    },
    open(f: string, id: string) {
      if (dest) throw new Error(`deferred logger: already writing to ${file}`);
      runId = id;
      mkdirSync(path.dirname(f), { recursive: true });
      const d = pino.destination({ dest: f, sync: true, mkdir: true });
      for (const line of kept.splice(0)) d.write(`${JSON.stringify({ ...(JSON.parse(line) as object), runId: id })}\n`);
      dest = d;
      file = f;
    },
  };
}
