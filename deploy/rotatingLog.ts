/**
 * A size-rotated NDJSON file: a pino destination with synchronous writes (a killed process
 * loses at most the line being written) that keeps its active file `<dir>/<stem>.ndjson` under
 * `maxBytes`. Before a write that would take the active file past the limit, the file is closed,
 * renamed to the next segment `<stem>.<k>.ndjson` (k = 1, 2, ... oldest first; a reopened log
 * continues after the highest segment there) and a fresh active file is started; a line is never
 * split, and a single line longer than the limit gets a file of its own. Each rotated segment is
 * then gzip-compressed off the event loop (a stream through node:zlib, one segment at a time) to
 * `<stem>.<k>.ndjson.gz.tmp`, fsynced, renamed to `<stem>.<k>.ndjson.gz`, and only then is the
 * uncompressed segment removed: a crash at any point leaves every line in one complete file
 * (protocol/logFiles.ts reads whichever exists, the .gz first). Opening the log finishes what a
 * crash left: a segment with a complete .gz loses its uncompressed copy, one without is compressed,
 * and a torn last line in the active file is ended with a newline before anything is appended.
 */
import { closeSync, createReadStream, createWriteStream, fstatSync, mkdirSync, openSync, readdirSync, readSync } from 'node:fs';
import { renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { logStem, rotatedSegments } from '../protocol/logFiles.js';
import { fsyncDir } from '../infra/fs.js';

export interface RotatingLogOptions {
  /** Largest active file in bytes before it is rotated; 0 = never rotate. */
  maxBytes: number;
  /** Told about a segment that could not be made (the active file grows on) or compressed (it stays uncompressed); nothing is lost. Default: a line on stderr. */
  onError?: (err: Error, segment: string) => void;
}

export class RotatingLog {
  readonly file: string;
  private readonly dir: string;
  private readonly stem: string;
  private fd: number;
  private size: number;
  /** The active file's last byte is a newline (or it is empty): a rotation keeps lines whole. */
  private atLineStart = true;
  private nextK: number;
  private compressing: Promise<void> = Promise.resolve();
  private pending = 0;
  private closed = false;
  /** After a failed rotation, the size at which the next attempt is made (another maxBytes on). */
  private retryFrom = 0;

  constructor(
    file: string,
    private readonly o: RotatingLogOptions,
  ) {
    this.file = file;
    this.dir = path.dirname(file);
    this.stem = logStem(file);
    mkdirSync(this.dir, { recursive: true });
    const names = readdirSync(this.dir);
    for (const n of names)
      if (n.startsWith(`${this.stem}.`) && n.endsWith('.ndjson.gz.tmp')) rmSync(path.join(this.dir, n), { force: true });
    let maxK = 0;
    for (const s of rotatedSegments(file, names)) {
      maxK = Math.max(maxK, s.k!);
      const plain = this.segmentPath(s.k!);
      if (s.gz && names.includes(path.basename(plain))) unlinkSync(plain);
      else if (!s.gz) this.compress(s.k!);
    }
    this.nextK = maxK + 1;
    this.fd = openSync(file, 'a+');
    this.size = fstatSync(this.fd).size;
    // A process killed inside a write leaves a torn last line. End it, so that the first record
    // appended now starts a line of its own instead of being glued to the fragment (readers
    // count the fragment as one malformed line and keep every whole record).
    if (this.size > 0 && !lastByteIsNewline(this.fd, this.size)) {
      this.atLineStart = false; // no rotation between the fragment and its newline
      this.write('\n');
    }
  }

  /** Segments rotated so far (the next one is numbered this + 1). */
  get segments(): number {
    return this.nextK - 1;
  }

  /** pino's write: `chunk` is one or more whole lines. */
  write(chunk: string): boolean {
    if (this.closed) throw new Error(`${this.file}: write after close`);
    const buf = Buffer.from(chunk, 'utf8');
    if (this.o.maxBytes > 0 && this.size > 0 && this.atLineStart && this.size + buf.length > this.o.maxBytes && this.size >= this.retryFrom)
      this.rotate();
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
    this.size += buf.length;
    if (buf.length > 0) this.atLineStart = buf[buf.length - 1] === 0x0a;
    return true;
  }

  /** Close the active file, rename it to the next segment, start a fresh one, compress the segment in the background. */
  rotate(): void {
    if (this.size === 0) return;
    const k = this.nextK;
    closeSync(this.fd);
    try {
      renameSync(this.file, this.segmentPath(k));
    } catch (e) {
      // Keep logging to the same file rather than lose lines.
      this.fd = openSync(this.file, 'a');
      this.retryFrom = this.size + this.o.maxBytes;
      this.report(e, this.segmentPath(k), 'not rotated; trying again after another limit of lines');
      return;
    }
    this.nextK++;
    this.fd = openSync(this.file, 'a');
    this.size = 0;
    this.retryFrom = 0;
    this.atLineStart = true;
    this.compress(k);
  }

  /** Writes are synchronous; `cb` runs once every rotated segment so far is compressed (pino's `logger.flush(cb)`). */
  flush(cb?: (err?: Error) => void): void {
    this.drain().then(
      () => cb?.(),
      (e: unknown) => cb?.(e instanceof Error ? e : new Error(String(e))),
    );
  }

  /** Resolves once every segment rotated so far is compressed (or given up on). */
  drain(): Promise<void> {
    return this.compressing;
  }

  /** Segments waiting for or under compression. */
  get compressionsPending(): number {
    return this.pending;
  }

  /** Close the active file (no rotation) and wait for pending compressions. */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      closeSync(this.fd);
    }
    await this.drain();
  }

  private segmentPath(k: number): string {
    return path.join(this.dir, `${this.stem}.${k}.ndjson`);
  }

  private compress(k: number): void {
    const plain = this.segmentPath(k);
    this.pending++;
    this.compressing = this.compressing
      .then(() => gzipFile(plain, `${plain}.gz`))
      .catch((e: unknown) => this.report(e, plain, 'not compressed; it stays as it is'))
      .finally(() => this.pending--);
  }

  private report(e: unknown, segment: string, what: string): void {
    const err = e instanceof Error ? e : new Error(String(e));
    if (this.o.onError) this.o.onError(err, segment);
    else process.stderr.write(`warning: ${segment}: ${what} (${err.message})\n`);
  }
}

/** Compress `src` to `dest` via `dest.tmp` (fsynced, then renamed), then remove `src`. */
export async function gzipFile(src: string, dest: string): Promise<void> {
  const tmp = `${dest}.tmp`;
  try {
    await pipeline(createReadStream(src), createGzip(), createWriteStream(tmp));
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    renameSync(tmp, dest);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(path.dirname(dest));
  unlinkSync(src);
}

function lastByteIsNewline(fd: number, size: number): boolean {
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, size - 1);
  return b[0] === 0x0a;
}
