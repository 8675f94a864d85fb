/**
 * Checkpoint files: the learner's state at one version, written atomically and verified when
 * read back.
 *
 * One file per checkpoint, `ckpt-<version, 10 digits>.bin`:
 *
 *   magic "ISRCKPT1" (8 bytes) | header length (u32 LE) | header (UTF-8 JSON) |
 *   float64 sections, in the header's order (little-endian) | SHA-256 of everything before (32 bytes)
 *
 * The header holds `meta` (the caller's JSON state: version, counters, RNG states, config, model
 * hash, code version...) and the name and length of every float64 section (parameters, optimiser
 * moments). Writing goes to a temporary file in the same directory, is fsynced, renamed over the
 * final name and the directory fsynced, so a crash leaves either the old set of checkpoints or
 * the old set plus the new one, never a partial file under a checkpoint name. Only the newest
 * `keep` checkpoints are kept.
 *
 * Reading takes the newest checkpoint whose checksum and structure verify and whose float64
 * sections are all finite (a checkpoint of NaN parameters with a correct checksum is refused:
 * resuming from it or evaluating it could only give NaN); a corrupt, truncated or non-finite one
 * is reported through `onSkip` (with the file and what is wrong) and the previous one is tried.
 *
 * A disk that fills up or turns read-only: the first failed write is reported once through
 * `onStopped` (one line) and later checkpoints are not attempted (each would fail the same way
 * and leave the same line in a log that cannot be written either) until the final one, which is
 * always tried: the one that matters for a resume. The temporary file of a failed write is
 * removed (infra/fs.ts).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../infra/fs.js';

const MAGIC = Buffer.from('ISRCKPT1', 'ascii');
const DIGEST_BYTES = 32;
const NAME_RE = /^ckpt-(\d{10})\.bin$/;
// Sections are the platform's float64 bytes; every platform Node supports here is little-endian.
if (new Uint8Array(new Float64Array([1]).buffer)[7] !== 0x3f) throw new Error('checkpoints need a little-endian platform');

/** What a checkpoint holds besides its float64 sections. `version` orders checkpoints. */
export interface CheckpointMeta {
  version: number;
  [key: string]: unknown;
}

export interface Checkpoint<M extends CheckpointMeta = CheckpointMeta> {
  meta: M;
  /** Named float64 sections (parameters, optimiser moments...). */
  arrays: Record<string, Float64Array>;
}

/** A checkpoint that failed to verify: thrown by `decodeCheckpoint`, reported by `loadLatest`. */
export class CorruptCheckpointError extends Error {
  override readonly name = 'CorruptCheckpointError';
}

interface Header {
  meta: CheckpointMeta;
  sections: { name: string; length: number }[];
}

/** The bytes of a checkpoint file. */
export function encodeCheckpoint(c: Checkpoint): Buffer {
  if (!Number.isInteger(c.meta.version) || c.meta.version < 0) {
    throw new RangeError(`checkpoint meta.version must be an integer >= 0, got ${String(c.meta.version)}`);
  }
  const sections = Object.entries(c.arrays).map(([name, a]) => ({ name, length: a.length }));
  const header = Buffer.from(JSON.stringify({ meta: c.meta, sections } satisfies Header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length, 0);
  const body: Buffer[] = [MAGIC, len, header];
  for (const a of Object.values(c.arrays)) {
    body.push(Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  }
  const payload = Buffer.concat(body);
  return Buffer.concat([payload, createHash('sha256').update(payload).digest()]);
}

/** Parse and verify checkpoint bytes; throws CorruptCheckpointError saying what is wrong. */
export function decodeCheckpoint(buf: Buffer): Checkpoint {
  const minLen = MAGIC.length + 4 + DIGEST_BYTES;
  if (buf.length < minLen) throw new CorruptCheckpointError(`truncated: ${buf.length} bytes, a checkpoint has at least ${minLen}`);
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new CorruptCheckpointError('not a checkpoint: bad magic bytes');
  const payload = buf.subarray(0, buf.length - DIGEST_BYTES);
  const digest = createHash('sha256').update(payload).digest();
  if (!digest.equals(buf.subarray(buf.length - DIGEST_BYTES)))
    throw new CorruptCheckpointError('checksum mismatch: the file is corrupt or was cut short');
  const hLen = buf.readUInt32LE(MAGIC.length);
  const hStart = MAGIC.length + 4;
  if (hStart + hLen > payload.length) throw new CorruptCheckpointError(`header length ${hLen} runs past the end of the file`);
  let header: Header;
  try {
    header = JSON.parse(buf.subarray(hStart, hStart + hLen).toString('utf8')) as Header;
  } catch (e) {
    throw new CorruptCheckpointError(`header is not JSON: ${(e as Error).message}`);
  }
  if (!header || typeof header !== 'object' || !header.meta || !Number.isInteger(header.meta.version) || !Array.isArray(header.sections)) {
    throw new CorruptCheckpointError('header lacks meta.version or sections');
  }
  let off = hStart + hLen;
  const arrays: Record<string, Float64Array> = {};
  for (const s of header.sections) {
    if (typeof s.name !== 'string' || !Number.isInteger(s.length) || s.length < 0)
      throw new CorruptCheckpointError(`bad section entry ${JSON.stringify(s)}`);
    if (off + s.length * 8 > payload.length)
      throw new CorruptCheckpointError(`section '${s.name}' (${s.length} float64) runs past the end of the file`);
    const a = new Float64Array(s.length);
    new Uint8Array(a.buffer).set(buf.subarray(off, off + s.length * 8));
    arrays[s.name] = a;
    off += s.length * 8;
  }
  if (off !== payload.length) throw new CorruptCheckpointError(`${payload.length - off} unexpected bytes after the last section`);
  for (const [name, a] of Object.entries(arrays)) {
    const bad = nonFinite(a);
    if (bad)
      throw new CorruptCheckpointError(`section '${name}' holds ${bad}: refused (its checksum is correct, the values are not usable)`);
  }
  return { meta: header.meta, arrays };
}

/** 'NaN at index i (k of n values not finite)' when `a` holds a value that is not finite, else null. */
function nonFinite(a: Float64Array): string | null {
  let first = -1,
    count = 0;
  for (let i = 0; i < a.length; i++)
    if (!Number.isFinite(a[i]!)) {
      if (first < 0) first = i;
      count++;
    }
  return first < 0 ? null : `${String(a[first])} at index ${first} (${count} of ${a.length} values not finite)`;
}

/** Error codes of a disk that cannot take more writes: full, over quota, read-only, failing. */
const DISK_CODES = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EIO', 'EACCES', 'EPERM']);

/** Whether `e` says the disk (not the data) is the problem. */
export function isDiskError(e: unknown): boolean {
  return DISK_CODES.has(String((e as NodeJS.ErrnoException | null)?.code));
}

export interface CheckpointStoreOptions {
  /** How many checkpoints to keep (newest first). Default 3. */
  keep?: number;
  /** Called for every checkpoint skipped while loading, with its path and the reason. */
  onSkip?: (file: string, reason: string) => void;
  /** Told once, with one line, when a disk error stops checkpointing until the final attempt. Default: the line on stderr. */
  onStopped?: (line: string) => void;
}

/** A checkpoint not attempted: an earlier one failed on the disk (see the module comment). */
export class CheckpointsStoppedError extends Error {
  override readonly name = 'CheckpointsStoppedError';
}

/** The checkpoints of one run directory (`<runDir>/checkpoints/`). */
export class CheckpointStore {
  private readonly keep: number;
  private readonly onSkip: (file: string, reason: string) => void;
  private readonly onStopped: (line: string) => void;
  /** The disk error that stopped checkpointing (null: none so far). */
  private stoppedBy: string | null = null;

  constructor(
    readonly dir: string,
    o: CheckpointStoreOptions = {},
  ) {
    this.keep = o.keep ?? 3;
    if (!Number.isInteger(this.keep) || this.keep < 1) throw new RangeError(`keep must be an integer >= 1, got ${String(o.keep)}`);
    this.onSkip = o.onSkip ?? (() => undefined);
    this.onStopped = o.onStopped ?? ((line) => void process.stderr.write(`${line}\n`));
  }

  /** The disk error that stopped checkpointing, or null. */
  get stopped(): string | null {
    return this.stoppedBy;
  }

  /** The file name of the checkpoint at `version`. */
  static fileName(version: number): string {
    return `ckpt-${String(version).padStart(10, '0')}.bin`;
  }

  /** Checkpoint files present, newest (highest version) first. */
  list(): string[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    return names
      .filter((n) => NAME_RE.test(n))
      .sort()
      .reverse()
      .map((n) => path.join(this.dir, n));
  }

  /**
   * Write a checkpoint atomically, then delete all but the newest `keep`; returns its path. After
   * a disk error only a checkpoint whose `meta.final` is true is attempted (the others throw
   * CheckpointsStoppedError); a final one that succeeds resumes checkpointing.
   */
  save(c: Checkpoint): string {
    const final = (c.meta as { final?: unknown }).final === true;
    if (this.stoppedBy !== null && !final)
      throw new CheckpointsStoppedError(`not attempted: checkpoints stopped after ${this.stoppedBy}; the final one is still tried`);
    const file = path.join(this.dir, CheckpointStore.fileName(c.meta.version));
    try {
      mkdirSync(this.dir, { recursive: true });
      writeFileAtomic(file, encodeCheckpoint(c));
    } catch (e) {
      if (!isDiskError(e)) throw e;
      const what = `${(e as NodeJS.ErrnoException).code} writing ${path.basename(file)}`;
      if (this.stoppedBy === null)
        this.onStopped(
          `isreshape learner: checkpoint ${file} not written (${(e as Error).message}): checkpoints stop here, training goes on; the final checkpoint is still attempted and the newest written one stays the resume point`,
        );
      else if (final) this.onStopped(`isreshape learner: the final checkpoint ${file} was not written either (${(e as Error).message})`);
      this.stoppedBy ??= what;
      throw e;
    }
    this.stoppedBy = null;
    for (const old of this.list().slice(this.keep)) rmSync(old, { force: true });
    // Temporary files of writers killed mid-write (other pids) are garbage.
    for (const n of readdirSync(this.dir)) {
      if (n.startsWith('.ckpt-') && n.includes('.tmp-') && !n.endsWith(`.tmp-${process.pid}`))
        rmSync(path.join(this.dir, n), { force: true });
    }
    return file;
  }

  /** The newest checkpoint that verifies, or null when there is none; corrupt ones are skipped. */
  loadLatest(): { file: string; checkpoint: Checkpoint } | null {
    for (const file of this.list()) {
      try {
        return { file, checkpoint: decodeCheckpoint(readFileSync(file)) };
      } catch (e) {
        this.onSkip(file, e instanceof Error ? e.message : String(e));
      }
    }
    return null;
  }
}

/** Load one checkpoint file (for `eval` and `export` given a file); throws naming the file. */
export function loadCheckpointFile(file: string): Checkpoint {
  try {
    return decodeCheckpoint(readFileSync(file));
  } catch (e) {
    throw new CorruptCheckpointError(`${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
