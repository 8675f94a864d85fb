/**
 * NDJSON logs: one pino file per process in the run directory. Every line carries the role,
 * the tensor backend and the run id (the log schema in README.md and protocol/records.ts).
 * Synchronous writes: a killed process loses at most the line being written. With `maxMb` the
 * file is rotated and its segments gzip-compressed (deploy/rotatingLog.ts; read them with
 * protocol/logFiles.ts); `logger.flush(cb)` then calls back once pending compressions finish.
 *
 * A write that fails (a full or read-only disk, ENOSPC / EROFS) never throws into the caller:
 * the first failure prints one line on stderr naming the file and the error, logging stops, and
 * the lines logged from then on are held in memory (the newest HELD_BYTES of them; older ones are
 * counted). `logger.flush(cb)` makes the final attempt: the held lines are appended if the disk
 * takes them now; `logHealth(logger)` then says whether the file is complete.
 */
import { pino, type Logger } from 'pino';
import { closeSync, fstatSync, mkdirSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { RotatingLog } from './rotatingLog.js';

export interface LoggerOptions {
  /** Rotate the file before it would exceed this many MiB (0 or absent: never). */
  maxMb?: number;
  /** Where the one line about a failed write goes (default: stderr). */
  onFailure?: (line: string) => void;
}

/** Lines held in memory after a failed write, at most this many bytes (the newest kept). */
export const HELD_BYTES = 4 * 1024 * 1024;

/** What happened to a log's lines: complete, or how many were not written and why. */
export interface LogHealth {
  file: string;
  /** The error of the first failed write, or null when every line reached the file. */
  error: string | null;
  /** Lines that were not written (after the final attempt, if one was made). */
  unwritten: number;
}

/** A destination that never throws: after a failed write it holds lines for one final attempt. */
class GuardedDestination {
  private failed: string | null = null;
  private held: string[] = [];
  private heldBytes = 0;
  private droppedLines = 0;
  private finalTried = false;

  constructor(
    readonly file: string,
    private readonly inner: RotatingLog,
    private readonly role: string,
    private readonly onFailure: (line: string) => void,
  ) {}

  write(chunk: string): boolean {
    if (this.failed === null) {
      try {
        this.inner.write(chunk);
        return true;
      } catch (e) {
        this.failed = errText(e);
        this.onFailure(
          `isreshape ${this.role}: log ${this.file} cannot be written (${this.failed}): logging stops here and the run goes on; the lines from now on are held and written at the end if the disk allows`,
        );
      }
    }
    this.hold(chunk);
    return true;
  }

  private hold(chunk: string): void {
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    while (this.heldBytes > HELD_BYTES && this.held.length > 1) {
      this.heldBytes -= this.held.shift()!.length;
      this.droppedLines++;
    }
  }

  /** The final attempt (once): append the held lines if the disk takes them now. */
  private finalAttempt(): void {
    if (this.failed === null || this.finalTried) return;
    this.finalTried = true;
    const lines = this.held.reduce((n, c) => n + countLines(c), 0);
    try {
      // The failed write may have left part of a line: end it, so the held lines start whole.
      this.inner.write((endsMidLine(this.file) ? '\n' : '') + this.held.join(''));
      this.held = [];
      this.heldBytes = 0;
      this.onFailure(
        `isreshape ${this.role}: log ${this.file}: the final attempt wrote the ${lines} held lines${this.droppedLines > 0 ? `; ${this.droppedLines} older lines were not kept` : ''}`,
      );
    } catch (e) {
      this.onFailure(
        `isreshape ${this.role}: log ${this.file}: the final attempt failed too (${errText(e)}): ${lines + this.droppedLines} lines were not written`,
      );
    }
  }

  health(): LogHealth {
    const pending = this.held.reduce((n, c) => n + countLines(c), 0);
    return { file: this.file, error: this.failed, unwritten: this.failed === null ? 0 : pending + this.droppedLines };
  }

  flush(cb?: (err?: Error) => void): void {
    this.finalAttempt();
    this.inner.flush(cb);
  }
}

const guards = new WeakMap<Logger, GuardedDestination>();

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Whether `file`'s last byte is not a newline (false when it is empty or cannot be read). */
function endsMidLine(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    if (size === 0) return false;
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, size - 1);
    return b[0] !== 0x0a;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function countLines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

export function createLogger(file: string, base: { role: string; backend: string; runId: string }, opts: LoggerOptions = {}): Logger {
  mkdirSync(path.dirname(file), { recursive: true });
  const maxBytes = opts.maxMb !== undefined && opts.maxMb > 0 ? Math.max(1, Math.round(opts.maxMb * 1024 * 1024)) : 0;
  const dest = new GuardedDestination(
    file,
    new RotatingLog(file, { maxBytes }),
    base.role,
    opts.onFailure ?? ((line) => void process.stderr.write(`${line}\n`)),
  );
  const logger = pino({ base: { ...base, pid: process.pid }, timestamp: pino.stdTimeFunctions.epochTime }, dest);
  guards.set(logger, dest);
  return logger;
}

/** Whether every line of `logger` (made by createLogger) reached its file; call after `logger.flush`. */
export function logHealth(logger: Logger): LogHealth | null {
  return guards.get(logger)?.health() ?? null;
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
      // A killed predecessor may have torn the last line: end it before appending (as RotatingLog does).
      const torn = endsMidLine(f);
      const d = pino.destination({ dest: f, sync: true, mkdir: true });
      if (torn) d.write('\n');
      for (const line of kept.splice(0)) d.write(`${JSON.stringify({ ...(JSON.parse(line) as object), runId: id })}\n`);
      dest = d;
      file = f;
    },
  };
}
