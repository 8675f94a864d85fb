/**
 * The versioned binary codec of the wire messages (`messages.ts`). A message is one or more
 * ZeroMQ frames. The first frame (the head), little-endian:
 *
 *   offset 0   magic u32 (PROTOCOL_MAGIC)     offset 4   version u16    offset 6   type u16
 *   offset 8   nFixed u16    offset 10  nSections u16
 *   offset 12  out-of-line mask u16: bit i set = section i travels in a frame of its own run, not in the head
 *   offset 14  run-start mask u16: bit i set = section i starts a new frame (a subset of the out-of-line mask)
 *   offset 16  nFixed fixed fields, f64 each (integers; per-type order in SCHEMAS)
 *   then       nSections section lengths in bytes, u32 each (every section, wherever it travels), padded to 8
 *   then       the sections whose out-of-line bit is clear, in order, each padded to a multiple of 8 bytes
 *
 * and then one frame per run-start bit, in section order: a run of consecutive out-of-line
 * sections, the first at offset 0, each next one at the following multiple of 4, the frame
 * ending exactly where the run's last section ends (padding bytes between sections are not
 * read). `encode` writes every section into the head (one frame: one contiguous buffer);
 * `encodeFrames`, which the sockets use, sends each section of OUT_OF_LINE_MIN_BYTES or more
 * out of line, together with the sections that follow it in the same memory at that layout:
 * the frame IS a view of the message's own memory (zeromq.js hands buffers above 128 bytes to
 * libzmq without copying), so a large rollout is sent with no allocation or copy of its arrays.
 * An actor's rollout is a set of views into one packed segment (`actor/segmentPack.ts`, the
 * same order and 4-byte alignment), so it travels as the head and one frame. The decoder
 * accepts every placement (`decode` one frame, `decodeFrames` several).
 *
 * Every head section starts 8-byte aligned relative to the head, so the decoder returns
 * Float32Array / Int32Array views into the input without copying when the input's byteOffset
 * allows it, and copies otherwise (the same for a section frame). The decoder checks the
 * header, the frame mask against the frames received, every fixed field's range and every
 * section length against the shapes declared in the header before it touches any data;
 * semantic checks (finiteness, action range, model hash) are `validate.ts`'s job.
 */
import { AckStatus, DROP_REASONS, MsgType, PROTOCOL_MAGIC, PROTOCOL_VERSION, type AckMsg, type Message } from './messages.js';
import { PROTOCOL_ERROR_CODES, ProtocolError, reason, type ProtocolErrorCode } from './errors.js';

/** Maximum UTF-8 bytes of a string (envId, reason, detail). */
export const MAX_STRING_BYTES = 256;
/** Maximum UTF-8 bytes of the ActorStats JSON. */
export const MAX_STATS_BYTES = 64 * 1024;
/** Maximum steps T * E of one rollout. */
export const MAX_ROLLOUT_STEPS = 1 << 20;
/** `encodeFrames` sends a section of at least this many bytes as its own frame (zero-copy). */
export const OUT_OF_LINE_MIN_BYTES = 4096;

/** The outcome of `decode`: a message, or a reason `CODE: detail` with its code. */
export type DecodeResult = { ok: true; msg: Message } | { ok: false; reason: string; code: ProtocolErrorCode };

const HEADER_BYTES = 16;
const U32_MAX = 0xffffffff;

// Typed-array views below reinterpret wire bytes in host order; the wire is little-endian.
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('protocol/codec: a little-endian host is required');
}

/** A fixed field: 'u32' is an integer in [0, 2^32), 'hash' any integer in [-2^31, 2^32). */
type FieldKind = 'u32' | 'hash';
interface Schema {
  name: string;
  fixed: readonly (readonly [string, FieldKind])[];
  sections: readonly string[];
}

const SCHEMAS: Record<MsgType, Schema> = {
  [MsgType.Hello]: {
    name: 'hello',
    fixed: [
      ['actorId', 'u32'],
      ['obsDim', 'u32'],
      ['nActions', 'u32'],
      ['numEnvs', 'u32'],
      ['modelHash', 'hash'],
      ['incarnation', 'u32'],
    ],
    sections: ['envId'],
  },
  [MsgType.Rollout]: {
    name: 'rollout',
    // actionDim: 0 for discrete actions (the `actions` section), A for box actions (the `boxActions` section).
    fixed: [
      ['actorId', 'u32'],
      ['seq', 'u32'],
      ['workerId', 'u32'],
      ['behaviourVersion', 'u32'],
      ['T', 'u32'],
      ['E', 'u32'],
      ['obsDim', 'u32'],
      ['actionDim', 'u32'],
    ],
    sections: [
      'obs',
      'lastObs',
      'actions',
      'rewards',
      'terminated',
      'truncated',
      'finalObs',
      'logmu',
      'episodeReturns',
      'episodeLengths',
      'source',
      'boxActions',
    ],
  },
  [MsgType.Params]: {
    name: 'params',
    fixed: [
      ['version', 'u32'],
      ['modelHash', 'hash'],
    ],
    sections: ['params', 'runId'],
  },
  // status: AckStatus; code: 0 (trained), index into DROP_REASONS (dropped) or PROTOCOL_ERROR_CODES (rejected).
  [MsgType.Ack]: {
    name: 'ack',
    fixed: [
      ['seq', 'u32'],
      ['version', 'u32'],
      ['status', 'u32'],
      ['code', 'u32'],
    ],
    sections: ['text'],
  },
  [MsgType.Reject]: { name: 'reject', fixed: [], sections: ['reason'] },
  [MsgType.ActorStats]: { name: 'actorStats', fixed: [['actorId', 'u32']], sections: ['stats'] },
  [MsgType.Stop]: { name: 'stop', fixed: [['version', 'u32']], sections: ['reason'] },
  [MsgType.Heartbeat]: {
    name: 'heartbeat',
    fixed: [
      ['actorId', 'u32'],
      ['incarnation', 'u32'],
    ],
    sections: [],
  },
};

/** Most payload frames a message can have: the head plus one per section of the largest schema. */
export const MAX_PAYLOAD_FRAMES = 1 + Math.max(...Object.values(SCHEMAS).map((x) => x.sections.length));
// The masks at offsets 12 and 14 are u16: one bit per section.
if (MAX_PAYLOAD_FRAMES - 1 > 16) throw new Error('protocol/codec: a schema has more than 16 sections');

/** n rounded up to a multiple of 4 (a section's offset inside a run frame). */
const pad4 = (n: number): number => Math.ceil(n / 4) * 4;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** n rounded up to a multiple of 8; arithmetic, not bitwise: a u32 length near 2^32 must not wrap negative. */
const pad8 = (n: number): number => Math.ceil(n / 8) * 8;

function inRange(kind: FieldKind, x: number): boolean {
  return Number.isInteger(x) && x <= U32_MAX && x >= (kind === 'u32' ? 0 : -0x80000000);
}

function bytesOf(a: Float32Array | Int32Array | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** UTF-8 bytes of `s`, cut at a character boundary to at most MAX_STRING_BYTES. */
function truncatedUtf8(s: string): Uint8Array {
  const b = utf8Encoder.encode(s);
  if (b.length <= MAX_STRING_BYTES) return b;
  let end = MAX_STRING_BYTES;
  while (end > 0 && (b[end] & 0xc0) === 0x80) end--; // back off to the start of a character
  return b.subarray(0, end);
}

function ackFields(msg: AckMsg): [number[], Uint8Array[]] {
  switch (msg.status) {
    case AckStatus.Trained:
      return [[msg.seq, msg.version, msg.status, 0], [new Uint8Array(0)]];
    case AckStatus.Dropped: {
      const i = DROP_REASONS.indexOf(msg.drop);
      if (i < 0) throw new ProtocolError('BAD_FIELD', `ack.drop is '${String(msg.drop)}', expected one of ${DROP_REASONS.join(', ')}`);
      return [[msg.seq, msg.version, msg.status, i], [truncatedUtf8(msg.detail)]];
    }
    case AckStatus.Rejected: {
      const i = PROTOCOL_ERROR_CODES.indexOf(msg.code);
      if (i < 0) throw new ProtocolError('BAD_FIELD', `ack.code is '${String(msg.code)}', not a protocol error code`);
      return [[msg.seq, msg.version, msg.status, i], [truncatedUtf8(msg.reason)]];
    }
    default:
      throw new ProtocolError('BAD_FLAG', `ack.status is ${String((msg as { status: unknown }).status)}, expected an AckStatus`);
  }
}

function fieldsAndSections(msg: Message): [number[], Uint8Array[]] {
  switch (msg.type) {
    case MsgType.Hello: {
      const id = utf8Encoder.encode(msg.envId);
      if (id.length < 1 || id.length > MAX_STRING_BYTES) {
        throw new ProtocolError('BAD_STRING', `hello.envId has ${id.length} UTF-8 bytes, expected 1..${MAX_STRING_BYTES}`);
      }
      return [[msg.actorId, msg.obsDim, msg.nActions, msg.numEnvs, msg.modelHash, msg.incarnation], [id]];
    }
    case MsgType.Rollout: {
      const box = msg.boxActions ?? new Float32Array(0);
      const actionDim = msg.boxActions === undefined ? 0 : box.length / Math.max(1, msg.T * msg.E);
      return [
        [msg.actorId, msg.seq, msg.workerId, msg.behaviourVersion, msg.T, msg.E, msg.obsDim, actionDim],
        [
          msg.obs,
          msg.lastObs,
          msg.actions,
          msg.rewards,
          msg.terminated,
          msg.truncated,
          msg.finalObs,
          msg.logmu,
          msg.episodeReturns,
          msg.episodeLengths,
          msg.source ?? new Uint8Array(msg.E),
          box,
        ].map(bytesOf),
      ];
    }
    case MsgType.Params:
      return [
        [msg.version, msg.modelHash],
        [bytesOf(msg.params), truncatedUtf8(msg.runId ?? '')],
      ];
    case MsgType.Ack:
      return ackFields(msg);
    case MsgType.Reject:
      return [[], [truncatedUtf8(msg.reason)]];
    case MsgType.ActorStats: {
      for (const [k, v] of Object.entries(msg.stats)) {
        if (typeof v !== 'number' || !Number.isFinite(v)) {
          throw new ProtocolError('BAD_STATS', `actorStats.stats.${k} is ${String(v)}, expected a finite number`);
        }
      }
      const json = utf8Encoder.encode(JSON.stringify(msg.stats));
      if (json.length > MAX_STATS_BYTES) {
        throw new ProtocolError('TOO_LARGE', `actorStats.stats is ${json.length} bytes of JSON, max ${MAX_STATS_BYTES}`);
      }
      return [[msg.actorId], [json]];
    }
    case MsgType.Stop:
      return [[msg.version], [truncatedUtf8(msg.reason)]];
    case MsgType.Heartbeat:
      return [[msg.actorId, msg.incarnation], []];
    default:
      throw new ProtocolError('UNKNOWN_TYPE', `message type ${String((msg as { type: unknown }).type)}`);
  }
}

function checkedFields(msg: Message): [Schema, number[], Uint8Array[]] {
  const schema = SCHEMAS[msg.type];
  const [fixed, sections] = fieldsAndSections(msg);
  for (let i = 0; i < fixed.length; i++) {
    const x = fixed[i];
    const [field, kind] = schema.fixed[i];
    if (!inRange(kind, x))
      throw new ProtocolError(
        'BAD_FIELD',
        `${schema.name}.${field} is ${x}, expected an integer ${kind === 'u32' ? 'in [0, 2^32)' : 'in [-2^31, 2^32)'}`,
      );
  }
  return [schema, fixed, sections];
}

/** The head frame: header, fixed fields, the length table and the sections not in `mask`. */
function writeHead(type: MsgType, fixed: number[], sections: Uint8Array[], mask: number, starts: number): Buffer {
  const dataStart = pad8(HEADER_BYTES + 8 * fixed.length + 4 * sections.length);
  let total = dataStart;
  for (let i = 0; i < sections.length; i++) if ((mask & (1 << i)) === 0) total += pad8(sections[i].length);
  // Not zero-filled: every byte is written below (header, table, sections, zeroed padding),
  // so the inline sections are copied once, by memcpy, with no pass over the whole buffer first.
  const out = Buffer.allocUnsafe(total);
  out.fill(0, 0, dataStart);
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  dv.setUint32(0, PROTOCOL_MAGIC, true);
  dv.setUint16(4, PROTOCOL_VERSION, true);
  dv.setUint16(6, type, true);
  dv.setUint16(8, fixed.length, true);
  dv.setUint16(10, sections.length, true);
  dv.setUint16(12, mask, true);
  dv.setUint16(14, starts, true);
  for (let i = 0; i < fixed.length; i++) dv.setFloat64(HEADER_BYTES + 8 * i, fixed[i], true);
  let off = dataStart;
  for (let i = 0; i < sections.length; i++) {
    const s = sections[i];
    dv.setUint32(HEADER_BYTES + 8 * fixed.length + 4 * i, s.length, true);
    if ((mask & (1 << i)) !== 0) continue;
    out.set(s, off);
    const end = off + pad8(s.length);
    if (end > off + s.length) out.fill(0, off + s.length, end);
    off = end;
  }
  return out;
}

/**
 * Serialise a message into one contiguous buffer (every section in the head frame): for
 * storage, tests and peers that send one frame. Throws a ProtocolError for a message that
 * cannot be represented (a header field that is not an integer in range, an empty or
 * over-long envId, non-finite stats); Ack/Reject reasons longer than MAX_STRING_BYTES are cut,
 * not rejected. Array shapes are NOT checked here: inconsistent shapes encode, and the decoder
 * rejects them.
 */
export function encode(msg: Message): Buffer {
  const once = sealedEncodings.get(msg);
  if (once) return (once.single ??= encodeSingle(msg));
  return encodeSingle(msg);
}

function encodeSingle(msg: Message): Buffer {
  const [, fixed, sections] = checkedFields(msg);
  return writeHead(msg.type, fixed, sections, 0, 0);
}

/**
 * Serialise a message into the frames the sockets send: the head (header, fields, small
 * sections, copied) and runs of out-of-line sections, each run one frame that is a view of the
 * message's own memory: no allocation or copy of it. A run starts at a section of
 * OUT_OF_LINE_MIN_BYTES or more and takes in every following section that lies right after it
 * in the same ArrayBuffer (at the next multiple of 4), whatever its size. The frames share
 * memory with `msg`: do not change its arrays after sending (zeromq.js keeps a reference until
 * libzmq has written the bytes). Throws as `encode`.
 */
export function encodeFrames(msg: Message): Uint8Array[] {
  const once = sealedEncodings.get(msg);
  if (once) return once.frames;
  const [, fixed, sections] = checkedFields(msg);
  let mask = 0,
    starts = 0;
  const runs: Uint8Array[] = [];
  let run: Uint8Array | null = null; // the open run's first section
  let runEnd = 0; // byte offset in run.buffer where the open run ends
  const close = () => {
    if (run !== null) runs.push(new Uint8Array(run.buffer, run.byteOffset, runEnd - run.byteOffset));
    run = null;
  };
  for (let i = 0; i < sections.length; i++) {
    const s = sections[i];
    if (run !== null && s.buffer === run.buffer && s.byteOffset === run.byteOffset + pad4(runEnd - run.byteOffset)) {
      mask |= 1 << i;
      runEnd = s.byteOffset + s.length;
    } else if (s.length >= OUT_OF_LINE_MIN_BYTES) {
      close();
      mask |= 1 << i;
      starts |= 1 << i;
      run = s;
      runEnd = s.byteOffset + s.length;
    } else close();
  }
  close();
  return [writeHead(msg.type, fixed, sections, mask, starts), ...runs];
}

/** Bytes of `frames` together. */
export function framesBytes(frames: readonly Uint8Array[]): number {
  let n = 0;
  for (const f of frames) n += f.length;
  return n;
}

/** Messages encoded once, for sending to many peers: the message object -> its frames (and single buffer, once asked). */
const sealedEncodings = new WeakMap<Message, { frames: Uint8Array[]; bytes: number; single?: Buffer }>();

/**
 * Encode `msg` now and keep its frames: every later `encodeFrames(msg)` (and `encode(msg)`) of
 * this same object returns the same bytes (no copy), e.g. one parameter version sent to many
 * actors. The caller must not change `msg` (or its arrays) afterwards. Returns `msg` (frozen).
 */
export function sealed<M extends Message>(msg: M): M {
  if (!sealedEncodings.has(msg)) {
    const frames = encodeFrames(msg);
    sealedEncodings.set(msg, { frames, bytes: framesBytes(frames) });
  }
  return Object.freeze(msg);
}

/** Bytes a sealed message puts on the wire, all frames (encodes it if it was not sealed). */
export function sealedBytes(msg: Message): number {
  return sealedEncodings.get(msg)?.bytes ?? framesBytes(encodeFrames(msg));
}

/** A rejection inside the decoder; caught in `decode` and turned into `{ ok: false }`. */
class Reject {
  constructor(
    readonly code: ProtocolErrorCode,
    readonly detail: string,
  ) {}
}

function fail(code: ProtocolErrorCode, detail: string): never {
  throw new Reject(code, detail);
}

/** Where each section of one message lies (a frame and a byte range), with typed readers that copy only if unaligned. */
class Sections {
  constructor(
    private readonly bufs: Uint8Array[],
    private readonly offsets: number[],
    readonly lengths: number[],
  ) {}

  private aligned(i: number, elemBytes: number): boolean {
    return (this.bufs[i].byteOffset + this.offsets[i]) % elemBytes === 0;
  }

  bytes(i: number): Uint8Array {
    return this.bufs[i].subarray(this.offsets[i], this.offsets[i] + this.lengths[i]);
  }

  f32(i: number): Float32Array {
    if (this.aligned(i, 4)) return new Float32Array(this.bufs[i].buffer, this.bufs[i].byteOffset + this.offsets[i], this.lengths[i] / 4);
    return new Float32Array(this.bytes(i).slice().buffer);
  }

  i32(i: number): Int32Array {
    if (this.aligned(i, 4)) return new Int32Array(this.bufs[i].buffer, this.bufs[i].byteOffset + this.offsets[i], this.lengths[i] / 4);
    return new Int32Array(this.bytes(i).slice().buffer);
  }

  string(i: number, field: string, max: number, minBytes: number): string {
    const n = this.lengths[i];
    if (n > max) fail('TOO_LARGE', `${field} has ${n} bytes, max ${max}`);
    if (n < minBytes) fail('BAD_STRING', `${field} is empty`);
    try {
      return utf8Decoder.decode(this.bytes(i));
    } catch {
      return fail('BAD_STRING', `${field} is not valid UTF-8`);
    }
  }
}

function expectBytes(s: Sections, i: number, field: string, expected: number, formula: string): void {
  if (s.lengths[i] !== expected) fail('SHAPE_MISMATCH', `${field} has ${s.lengths[i]} bytes, expected ${formula} = ${expected}`);
}

function decodeRollout(f: number[], s: Sections): Message {
  const [actorId, seq, workerId, behaviourVersion, T, E, obsDim, actionDim] = f;
  const n = T * E;
  if (n > MAX_ROLLOUT_STEPS) fail('TOO_LARGE', `rollout T * E is ${T} * ${E} = ${n}, max ${MAX_ROLLOUT_STEPS}`);
  expectBytes(s, 0, 'rollout.obs', n * obsDim * 4, 'T * E * obsDim * 4');
  expectBytes(s, 1, 'rollout.lastObs', E * obsDim * 4, 'E * obsDim * 4');
  if (actionDim === 0) {
    expectBytes(s, 2, 'rollout.actions', n * 4, 'T * E * 4');
    expectBytes(s, 11, 'rollout.boxActions', 0, 'none for discrete actions (actionDim 0)');
  } else {
    expectBytes(s, 2, 'rollout.actions', 0, 'none for box actions (actionDim > 0)');
    expectBytes(s, 11, 'rollout.boxActions', n * actionDim * 4, 'T * E * actionDim * 4');
  }
  expectBytes(s, 3, 'rollout.rewards', n * 4, 'T * E * 4');
  expectBytes(s, 4, 'rollout.terminated', n, 'T * E');
  expectBytes(s, 5, 'rollout.truncated', n, 'T * E');
  const fin = s.lengths[6];
  if (obsDim === 0 ? fin !== 0 : fin % (obsDim * 4) !== 0)
    fail('SHAPE_MISMATCH', `rollout.finalObs has ${fin} bytes, not a multiple of obsDim * 4 = ${obsDim * 4}`);
  expectBytes(s, 7, 'rollout.logmu', n * 4, 'T * E * 4');
  if (s.lengths[8] % 4 !== 0) fail('SHAPE_MISMATCH', `rollout.episodeReturns has ${s.lengths[8]} bytes, not a multiple of 4`);
  expectBytes(s, 9, 'rollout.episodeLengths', s.lengths[8], 'episodeReturns bytes');
  expectBytes(s, 10, 'rollout.source', E, 'E');
  return {
    type: MsgType.Rollout,
    actorId,
    seq,
    workerId,
    behaviourVersion,
    T,
    E,
    obsDim,
    obs: s.f32(0),
    lastObs: s.f32(1),
    actions: s.i32(2),
    rewards: s.f32(3),
    terminated: s.bytes(4),
    truncated: s.bytes(5),
    finalObs: s.f32(6),
    logmu: s.f32(7),
    episodeReturns: s.f32(8),
    episodeLengths: s.i32(9),
    source: s.bytes(10),
    ...(actionDim === 0 ? {} : { boxActions: s.f32(11) }),
  };
}

function decodeStats(s: Sections): Record<string, number> {
  const json = s.string(0, 'actorStats.stats', MAX_STATS_BYTES, 0);
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return fail('BAD_STATS', 'actorStats.stats is not valid JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('BAD_STATS', 'actorStats.stats is not a JSON object');
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'number' || !Number.isFinite(x))
      fail('BAD_STATS', `actorStats.stats.${k.slice(0, 64)} is ${JSON.stringify(x)?.slice(0, 64)}, expected a finite number`);
  }
  return v as Record<string, number>;
}

function decodeAck(f: number[], s: Sections): AckMsg {
  const [seq, version, status, code] = f;
  const text = s.string(0, 'ack.text', MAX_STRING_BYTES, 0);
  switch (status) {
    case AckStatus.Trained:
      if (code !== 0 || text !== '')
        fail('BAD_FIELD', `ack of a trained rollout has code ${code} and ${s.lengths[0]} text bytes, expected 0 and 0`);
      return { type: MsgType.Ack, status, seq, version };
    case AckStatus.Dropped:
      if (code >= DROP_REASONS.length) fail('BAD_FIELD', `ack.code is ${code}, expected a drop reason index 0..${DROP_REASONS.length - 1}`);
      return { type: MsgType.Ack, status, seq, version, drop: DROP_REASONS[code], detail: text };
    case AckStatus.Rejected:
      if (code >= PROTOCOL_ERROR_CODES.length)
        fail('BAD_FIELD', `ack.code is ${code}, expected an error code index 0..${PROTOCOL_ERROR_CODES.length - 1}`);
      return { type: MsgType.Ack, status, seq, version, code: PROTOCOL_ERROR_CODES[code], reason: text };
    default:
      return fail('BAD_FLAG', `ack.status is ${status}, expected 0 (trained), 1 (dropped) or 2 (rejected)`);
  }
}

function decodeBody(type: MsgType, f: number[], s: Sections): Message {
  switch (type) {
    case MsgType.Hello:
      return {
        type,
        actorId: f[0],
        envId: s.string(0, 'hello.envId', MAX_STRING_BYTES, 1),
        obsDim: f[1],
        nActions: f[2],
        numEnvs: f[3],
        modelHash: f[4],
        incarnation: f[5],
      };
    case MsgType.Rollout:
      return decodeRollout(f, s);
    case MsgType.Params: {
      if (s.lengths[0] % 4 !== 0) fail('SHAPE_MISMATCH', `params.params has ${s.lengths[0]} bytes, not a multiple of 4`);
      const runId = s.string(1, 'params.runId', MAX_STRING_BYTES, 0);
      return { type, version: f[0], modelHash: f[1], params: s.f32(0), ...(runId === '' ? {} : { runId }) };
    }
    case MsgType.Ack:
      return decodeAck(f, s);
    case MsgType.Reject:
      return { type, reason: s.string(0, 'reject.reason', MAX_STRING_BYTES, 0) };
    case MsgType.ActorStats:
      return { type, actorId: f[0], stats: decodeStats(s) };
    case MsgType.Stop:
      return { type, version: f[0], reason: s.string(0, 'stop.reason', MAX_STRING_BYTES, 0) };
    case MsgType.Heartbeat:
      return { type, actorId: f[0], incarnation: f[1] };
  }
}

const u8Of = (b: Uint8Array): Uint8Array => (b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength));

function popcount(x: number): number {
  let n = 0;
  for (let v = x >>> 0; v !== 0; v >>>= 1) n += v & 1;
  return n;
}

function decodeOrThrow(frames: readonly Uint8Array[]): Message {
  if (frames.length === 0) fail('BAD_FRAMES', 'message has no payload frames');
  if (frames.length > MAX_PAYLOAD_FRAMES) fail('BAD_FRAMES', `message has ${frames.length} payload frames, max ${MAX_PAYLOAD_FRAMES}`);
  const u8 = u8Of(frames[0]);
  if (frames.length > 1 && (u8.length < HEADER_BYTES || u8[0] !== (PROTOCOL_MAGIC & 0xff) || u8[3] !== PROTOCOL_MAGIC >>> 24))
    fail('BAD_FRAMES', `message has ${frames.length} payload frames and the first is not a protocol header`);
  if (u8.length < HEADER_BYTES) fail('TRUNCATED', `message has ${u8.length} bytes, the header alone is ${HEADER_BYTES}`);
  const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const magic = dv.getUint32(0, true);
  if (magic !== PROTOCOL_MAGIC) fail('BAD_MAGIC', `magic is 0x${magic.toString(16)}, expected 0x${PROTOCOL_MAGIC.toString(16)}`);
  const version = dv.getUint16(4, true);
  if (version !== PROTOCOL_VERSION) fail('BAD_VERSION', `protocol version is ${version}, this build speaks ${PROTOCOL_VERSION}`);
  const type = dv.getUint16(6, true) as MsgType;
  const schema = Object.prototype.hasOwnProperty.call(SCHEMAS, type) ? SCHEMAS[type] : undefined;
  if (schema === undefined) fail('UNKNOWN_TYPE', `message type is ${type}, expected 1..${Object.keys(SCHEMAS).length}`);
  const nFixed = dv.getUint16(8, true);
  const nSections = dv.getUint16(10, true);
  const mask = dv.getUint16(12, true);
  const starts = dv.getUint16(14, true);
  if (nFixed !== schema.fixed.length || nSections !== schema.sections.length) {
    fail(
      'BAD_HEADER',
      `${schema.name} header declares ${nFixed} fields and ${nSections} sections, expected ${schema.fixed.length} and ${schema.sections.length}`,
    );
  }
  const masks = `out-of-line mask 0x${mask.toString(16)}, run-start mask 0x${starts.toString(16)}`;
  if (mask >>> nSections !== 0) fail('BAD_HEADER', `${schema.name} ${masks} names sections beyond its ${nSections}`);
  if ((starts & ~mask) !== 0) fail('BAD_HEADER', `${schema.name} ${masks}: a run starts at a section that is not out of line`);
  const runs = popcount(starts);
  if (frames.length !== 1 + runs)
    fail('BAD_FRAMES', `${schema.name} has ${frames.length} payload frames, its header declares ${1 + runs} (${masks})`);
  const tableEnd = HEADER_BYTES + 8 * nFixed + 4 * nSections;
  const dataStart = pad8(tableEnd);
  if (u8.length < dataStart) fail('TRUNCATED', `${schema.name} has ${u8.length} bytes, its header is ${dataStart}`);
  const fixed: number[] = [];
  for (let i = 0; i < nFixed; i++) {
    const x = dv.getFloat64(HEADER_BYTES + 8 * i, true);
    const [field, kind] = schema.fixed[i];
    if (!inRange(kind, x))
      fail('BAD_FIELD', `${schema.name}.${field} is ${x}, expected an integer ${kind === 'u32' ? 'in [0, 2^32)' : 'in [-2^31, 2^32)'}`);
    fixed.push(x);
  }
  const bufs: Uint8Array[] = [];
  const offsets: number[] = [];
  const lengths: number[] = [];
  let end = dataStart;
  let frame = 0; // frames[frame] is the last run opened (0: none yet)
  let open = false;
  let pos = 0; // where the open run's sections end so far
  const closeRun = () => {
    if (open && pos !== frames[frame].length)
      fail('LENGTH_MISMATCH', `${schema.name} frame ${frame} has ${frames[frame].length} bytes, its sections end at ${pos}`);
    open = false;
  };
  for (let i = 0; i < nSections; i++) {
    const len = dv.getUint32(HEADER_BYTES + 8 * nFixed + 4 * i, true);
    lengths.push(len);
    const bit = 1 << i;
    if ((starts & bit) !== 0) {
      closeRun();
      frame++;
      open = true;
      pos = 0;
    } else if ((mask & bit) !== 0) {
      if (!open) fail('BAD_HEADER', `${schema.name}.${schema.sections[i]} continues a run that is not open (${masks})`);
      pos = pad4(pos);
    } else {
      closeRun();
      bufs.push(u8);
      offsets.push(end);
      end += pad8(len);
      continue;
    }
    const f = u8Of(frames[frame]);
    if (pos + len > f.length)
      fail('TRUNCATED', `${schema.name}.${schema.sections[i]} ends at byte ${pos + len} of frame ${frame}, which has ${f.length}`);
    bufs.push(f);
    offsets.push(pos);
    pos += len;
  }
  closeRun();
  if (end > u8.length) fail('TRUNCATED', `${schema.name} head sections declare ${end} bytes in all, the head frame has ${u8.length}`);
  if (end < u8.length) fail('LENGTH_MISMATCH', `${schema.name} head sections declare ${end} bytes in all, the head frame has ${u8.length}`);
  return decodeBody(type, fixed, new Sections(bufs, offsets, lengths));
}

/**
 * Parse bytes into a message. Never throws: bad bytes (and any unexpected exception) become
 * `{ ok: false, code, reason }`. Float32/Int32 arrays of the result are views into `buf` when
 * its byteOffset keeps them 4-byte aligned and copies otherwise; Uint8 flags are always views,
 * so do not reuse `buf` while the message is alive. The result is shape-consistent but not
 * validated: run `validateRollout` / `validateHello` / `validateParams` before trusting it.
 */
export function decode(buf: Uint8Array): DecodeResult {
  return decodeFrames([buf]);
}

/**
 * Parse the payload frames of one message (the head, then one frame per section its frame
 * mask names) into a message. Never throws, as `decode`; the result's arrays may be views into
 * any of the frames. Checks the frame count against MAX_PAYLOAD_FRAMES and the head's mask
 * (BAD_FRAMES) and each section frame's length against the head (LENGTH_MISMATCH).
 */
export function decodeFrames(frames: readonly Uint8Array[]): DecodeResult {
  try {
    return { ok: true, msg: decodeOrThrow(frames) };
  } catch (e) {
    if (e instanceof Reject) return { ok: false, code: e.code, reason: reason(e.code, e.detail) };
    return { ok: false, code: 'INTERNAL', reason: reason('INTERNAL', e instanceof Error ? e.message : String(e)) };
  }
}

/**
 * Bytes of the largest message an actor of a run with rollouts of T x E steps of `obsDim`
 * observations may legitimately send: a rollout whose every step is truncated (finalObs full)
 * and ends an episode, or the largest ActorStats, whichever is larger. The learner sets
 * ZeroMQ's maxMessageSize just above it, so larger messages never reach the decoder.
 */
export function maxMessageBytes(T: number, E: number, obsDim: number, actionDim = 0): number {
  const n = T * E;
  // obs, lastObs, actions, rewards, terminated, truncated, finalObs, logmu, episodeReturns, episodeLengths, source, boxActions
  const sections = [n * obsDim * 4, E * obsDim * 4, 4 * n, 4 * n, n, n, n * obsDim * 4, 4 * n, 4 * n, 4 * n, E, 4 * n * actionDim];
  const rollout = pad8(HEADER_BYTES + 8 * 8 + 4 * sections.length) + sections.reduce((a, b) => a + pad8(b), 0);
  const stats = pad8(HEADER_BYTES + 8 + 4) + pad8(MAX_STATS_BYTES);
  return Math.max(rollout, stats);
}
