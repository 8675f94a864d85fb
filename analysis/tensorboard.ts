/**
 * TensorBoard event files without TensorFlow: TFRecord framing (uint64 length, masked CRC32C of
 * the length, data, masked CRC32C of the data) around hand-encoded `Event` protobufs
 * (tensorflow/core/util/event.proto: wall_time = 1 double, step = 2 int64, file_version = 3
 * string, summary = 5; Summary.value = 1 repeated; Summary.Value tag = 1 string, simple_value
 * = 2 float). The writer appends synchronously record by record, so it can be fed live by a
 * training loop as well as by `export-tb` from a finished run's NDJSON.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LAG_BUCKETS, type Quadrants, type SummaryRecord, type UpdateRecord } from '../protocol/records.js';
import { QUADRANT_KEYS } from './tables.js';

// ---- CRC32C (Castagnoli, reflected polynomial 0x82f63b78), table-driven ----

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

export function crc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC: rotate right by 15 and add a constant, mod 2^32. */
export function maskedCrc32c(data: Uint8Array): number {
  const c = crc32c(data);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One TFRecord: length (uint64 LE), masked CRC of the length bytes, the data, masked CRC of the data. */
export function tfRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(8 + 4 + data.length + 4);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, 12);
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
  return out;
}

// ---- protobuf encoding of the few messages we need ----

function varint(n: number): number[] {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`varint: needs a non-negative safe integer, got ${n}`);
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

function key(field: number, wireType: number): number[] {
  return varint((field << 3) | wireType);
}

function lengthDelimited(field: number, bytes: Uint8Array): number[] {
  return [...key(field, 2), ...varint(bytes.length), ...bytes];
}

/** Summary.Value { tag = 1, simple_value = 2 (float) }. */
function summaryValue(tag: string, value: number): Uint8Array {
  const f = Buffer.alloc(4);
  f.writeFloatLE(value, 0);
  return Uint8Array.from([...lengthDelimited(1, Buffer.from(tag, 'utf8')), ...key(2, 5), ...f]);
}

/** Event { wall_time = 1 (double), step = 2 (int64), file_version = 3 | summary = 5 }. */
export function encodeEvent(e: {
  wallTime: number;
  step: number;
  fileVersion?: string;
  scalars?: readonly (readonly [string, number])[];
}): Uint8Array {
  const d = Buffer.alloc(8);
  d.writeDoubleLE(e.wallTime, 0);
  const bytes = [...key(1, 1), ...d];
  if (e.step !== 0) bytes.push(...key(2, 0), ...varint(e.step));
  if (e.fileVersion !== undefined) bytes.push(...lengthDelimited(3, Buffer.from(e.fileVersion, 'utf8')));
  if (e.scalars !== undefined) {
    const summary = e.scalars.flatMap(([tag, v]) => lengthDelimited(1, summaryValue(tag, v)));
    bytes.push(...lengthDelimited(5, Uint8Array.from(summary)));
  }
  return Uint8Array.from(bytes);
}

// ---- the writer ----

export interface TensorBoardWriterOptions {
  /** Seconds since the epoch for the file name and the file_version event (default: now). */
  wallTime?: number;
  /** Host in the file name (default os.hostname()). */
  host?: string;
}

/** Writes events to a new `<dir>/events.out.tfevents.<secs>.<host>` (replacing one of that name); the first record is file_version "brain.Event:2". */
export class TensorBoardWriter {
  readonly path: string;
  private fd: number | null;
  /** Events written, the file_version event included. */
  events = 0;
  scalars = 0;

  constructor(dir: string, o: TensorBoardWriterOptions = {}) {
    const wallTime = o.wallTime ?? Date.now() / 1000;
    if (!Number.isFinite(wallTime) || wallTime < 0)
      throw new RangeError(`TensorBoardWriter: wallTime must be seconds since the epoch, got ${wallTime}`);
    const host = (o.host ?? hostname()).replace(/[/\\]/g, '_') || 'localhost';
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, `events.out.tfevents.${Math.floor(wallTime)}.${host}`);
    this.fd = openSync(this.path, 'w');
    this.write(encodeEvent({ wallTime, step: 0, fileVersion: 'brain.Event:2' }));
  }

  /** One event at `step` holding every finite scalar given (others are left out); returns how many were written. */
  addScalars(step: number, wallTime: number, scalars: Readonly<Record<string, number | null | undefined>>): number {
    const values = Object.entries(scalars).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]));
    if (values.length === 0) return 0;
    this.write(encodeEvent({ wallTime, step: Math.max(0, Math.round(step)), scalars: values }));
    this.scalars += values.length;
    return values.length;
  }

  /**
   * An update record's scalars at step = env steps, at the record's time (a live record, not
   * yet through the logger, has no time: then now).
   */
  addUpdate(u: UpdateRecord): number {
    return this.addScalars(u.envSteps, wallSeconds(u.time), updateScalars(u));
  }

  /** A summary record's final evaluation and random-policy return at its env steps (time as in addUpdate). */
  addSummary(s: SummaryRecord): number {
    return this.addScalars(s.envSteps, wallSeconds(s.time), summaryScalars(s));
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private write(event: Uint8Array): void {
    if (this.fd === null) throw new Error(`TensorBoardWriter: ${this.path} is closed`);
    const rec = tfRecord(event);
    writeSync(this.fd, rec, 0, rec.length);
    this.events++;
  }
}

/** A record's `time` (ms since the epoch) in seconds, or now when it has none. */
function wallSeconds(timeMs: number | undefined): number {
  return typeof timeMs === 'number' && Number.isFinite(timeMs) ? timeMs / 1000 : Date.now() / 1000;
}

/** The TensorBoard tags of one update record (null / absent fields are left out). */
export function updateScalars(u: UpdateRecord): Record<string, number | null | undefined> {
  const s: Record<string, number | null | undefined> = {
    'return/behaviour_mean100': u.return.mean100,
    'return/eval_stochastic': u.eval?.stochastic,
    'return/eval_greedy': u.eval?.greedy,
    'ess/w': u.ess,
    'ess/g': u.essG,
    'kl/mu_pi_k1': u.klMuPiK1,
    'kl/mu_pi_k3': u.klMuPiK3,
    'kl/pi_mu': u.klPiMu,
    'lag/min': u.lag.min,
    'lag/mean': u.lag.mean,
    'lag/max': u.lag.max,
    'policy/entropy': u.entropy,
    'policy/collapsed': u.collapsed === undefined ? undefined : u.collapsed ? 1 : 0,
    'loss/policy': u.policyLoss,
    'loss/value': u.valueLoss,
    'optim/grad_norm': u.gradNorm,
    'optim/lr': u.lr,
    'throughput/fps': u.fps,
    'throughput/queue_depth': u.queueDepth,
    'g/mean': u.meanG,
    'w/p05': u.wQuantiles.p05,
    'w/p50': u.wQuantiles.p50,
    'w/p95': u.wQuantiles.p95,
  };
  addQuadrants(s, 'g/quadrant', u.quadrants);
  if (u.trainQuadrants) addQuadrants(s, 'g/train_quadrant', u.trainQuadrants);
  for (const b of LAG_BUCKETS) {
    const st = u.lagBuckets[b];
    if (!st || st.n <= 0) continue;
    s[`g/lag_bucket/${b}`] = st.meanG;
    s[`ess/lag_bucket/${b}`] = st.ess;
  }
  return s;
}

/** The TensorBoard tags of a summary record. */
export function summaryScalars(s: SummaryRecord): Record<string, number | null | undefined> {
  return {
    'final_eval/stochastic': s.finalEval?.stochastic,
    'final_eval/greedy': s.finalEval?.greedy,
    'final_eval/random_policy': s.randomReturn,
  };
}

function addQuadrants(s: Record<string, number | null | undefined>, prefix: string, q: Quadrants): void {
  for (const k of QUADRANT_KEYS) s[`${prefix}/${k}`] = q[k].n > 0 ? q[k].meanG : null;
}

/** Write a finished run's records to a new event file in `dir`; the file is named after the first record's time. */
export function exportRun(
  dir: string,
  updates: readonly UpdateRecord[],
  summary: SummaryRecord | null,
  host?: string,
): { path: string; events: number; scalars: number } {
  const first = updates[0]?.time ?? summary?.time ?? Date.now();
  const w = new TensorBoardWriter(dir, { wallTime: first / 1000, ...(host !== undefined ? { host } : {}) });
  try {
    for (const u of updates) w.addUpdate(u);
    if (summary) w.addSummary(summary);
  } finally {
    w.close();
  }
  return { path: w.path, events: w.events, scalars: w.scalars };
}
