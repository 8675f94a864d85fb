/**
 * NDJSON logs: one pino file per process in the run directory. Every line carries the role,
 * the tensor backend and the run id (the log schema in README.md and protocol/records.ts).
 * Synchronous writes: a killed process loses at most the line being written.
 */
import { pino, type Logger } from 'pino';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export function createLogger(file: string, base: { role: string; backend: string; runId: string }): Logger {
  mkdirSync(path.dirname(file), { recursive: true });
  return pino(
    { base: { ...base, pid: process.pid }, timestamp: pino.stdTimeFunctions.epochTime },
    pino.destination({ dest: file, sync: true, mkdir: true }),
  );
}
