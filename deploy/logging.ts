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
