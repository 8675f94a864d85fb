/**
 * Protocol version 4: a message as several frames. `encodeFrames` sends each section of
 * OUT_OF_LINE_MIN_BYTES or more, with the sections that follow it in the same memory, as one
 * frame that is a view of the message's own memory (no copy); `decodeFrames` checks the frames
 * against the head's masks and lengths before it reads any data, and rejects every
 * inconsistency with a code and a reason naming it.
 */
import { describe, expect, it } from 'vitest';
import {
  decode,
  decodeFrames,
  encode,
  encodeFrames,
  framesBytes,
  MAX_PAYLOAD_FRAMES,
  maxMessageBytes,
  OUT_OF_LINE_MIN_BYTES,
  sealed,
  sealedBytes,
  type DecodeResult,
} from '../../../protocol/codec.js';
import { MsgType, type Message, type ParamsMsg, type RolloutMsg } from '../../../protocol/messages.js';
import { packSegment, unpackSegment } from '../../../actor/segmentPack.js';
import { makeRollout, rolloutDiff } from './helpers.js';

/** `m` with its arrays as views into one packed segment, as an actor sends it. */
function packed(m: RolloutMsg): RolloutMsg {
  return { ...m, ...unpackSegment(packSegment({ ...m, source: m.source ?? new Uint8Array(m.E) })) };
}

function ok(r: DecodeResult): Message {
  if (!r.ok) throw new Error(r.reason);
  return r.msg;
}

function rejected(r: DecodeResult): { code: string; reason: string } {
  if (r.ok) throw new Error('expected a rejection, got ok');
  return r;
}

/** A copy of each frame, at a fresh (aligned) buffer, as the receiving socket would hand them. */
const copies = (frames: Uint8Array[]) => frames.map((f) => Buffer.from(f));

describe('encodeFrames / decodeFrames', () => {
  it('a 4 KB rollout is one frame, byte-identical to encode', () => {
    const m = makeRollout(32, 4, 4, { truncateEvery: 13 });
    const frames = encodeFrames(m);
    expect(frames.length).toBe(1);
    expect(Buffer.compare(Buffer.from(frames[0]), encode(m))).toBe(0);
  });

  it('a 248 KB rollout: its large arrays are their own frames, views of the message (no copy), and round-trip', () => {
    const m = makeRollout(128, 64, 4, { truncateEvery: 97 });
    const frames = encodeFrames(m);
    const big = [m.obs, m.actions, m.rewards, m.terminated, m.truncated, m.logmu];
    expect(frames.length).toBe(1 + big.length);
    frames.slice(1).forEach((f, i) => {
      expect(f.buffer).toBe(big[i].buffer); // the very same memory
      expect(f.byteOffset).toBe(big[i].byteOffset);
      expect(f.byteLength).toBe(big[i].byteLength);
      expect(f.byteLength).toBeGreaterThanOrEqual(OUT_OF_LINE_MIN_BYTES);
    });
    // The head holds only the small sections.
    expect(frames[0].length).toBeLessThan(OUT_OF_LINE_MIN_BYTES);
    expect(framesBytes(frames)).toBeLessThanOrEqual(encode(m).length);
    expect(framesBytes(frames)).toBeLessThanOrEqual(maxMessageBytes(128, 64, 4));
    const back = ok(decodeFrames(copies(frames))) as RolloutMsg;
    expect(rolloutDiff(m, back)).toEqual([]);
    // The single-frame form of the same message decodes to the same message.
    expect(rolloutDiff(m, ok(decode(encode(m))) as RolloutMsg)).toEqual([]);
  });

  it("an actor's packed 248 KB rollout is the head (128 bytes: copied by zeromq.js) and one frame over its packed memory", () => {
    const m = packed(makeRollout(128, 64, 4, { truncateEvery: 97 }));
    const frames = encodeFrames(m);
    expect(frames.map((f) => f.length)).toEqual([128, frames[1].length]);
    expect(frames[1].buffer).toBe(m.obs.buffer);
    expect(frames[1].byteOffset).toBe(m.obs.byteOffset);
    expect(frames[1].byteOffset + frames[1].length).toBe(m.source!.byteOffset + m.source!.length);
    const back = ok(decodeFrames(copies(frames))) as RolloutMsg;
    expect(rolloutDiff(m, back)).toEqual([]);
    // T * E not a multiple of 4: the flag sections are padded to 4 inside the frame.
    const odd = packed(makeRollout(129, 33, 4, { truncateEvery: 11 }));
    const f2 = encodeFrames(odd);
    expect(f2.length).toBe(2);
    expect(rolloutDiff(odd, ok(decodeFrames(copies(f2))) as RolloutMsg)).toEqual([]);
  });

  it('a section frame at an odd byte offset is copied, not misread', () => {
    const m = makeRollout(128, 64);
    const frames = encodeFrames(m).map((f, i) => {
      if (i === 0) return Buffer.from(f);
      const big = Buffer.alloc(f.length + 1);
      big.set(f, 1);
      return big.subarray(1);
    });
    expect(rolloutDiff(m, ok(decodeFrames(frames)) as RolloutMsg)).toEqual([]);
  });

  it('a sealed message returns the same frames every time and counts their bytes', () => {
    const params: ParamsMsg = { type: MsgType.Params, version: 3, modelHash: 9, params: new Float32Array(5000).fill(0.5) };
    const s = sealed(params);
    const a = encodeFrames(s);
    expect(encodeFrames(s)).toBe(a);
    expect(a.length).toBe(2);
    expect(a[1].buffer).toBe(params.params.buffer);
    expect(sealedBytes(s)).toBe(framesBytes(a));
    expect(encode(s)).toBe(encode(s)); // the single-buffer form is cached too
    const back = ok(decodeFrames(copies(a))) as ParamsMsg;
    expect(Array.from(back.params.subarray(0, 3))).toEqual([0.5, 0.5, 0.5]);
  });
});

describe('decodeFrames rejects frames that do not match the head', () => {
  const m = makeRollout(128, 64);
  const frames = () => copies(encodeFrames(m));

  it('a missing section frame', () => {
    const f = frames();
    expect(rejected(decodeFrames(f.slice(0, -1)))).toEqual({
      ok: false,
      code: 'BAD_FRAMES',
      reason: 'BAD_FRAMES: rollout has 6 payload frames, its header declares 7 (out-of-line mask 0xbd, run-start mask 0xbd)',
    });
  });

  it('an extra frame', () => {
    const f = frames();
    expect(rejected(decodeFrames([...f, Buffer.alloc(8)])).code).toBe('BAD_FRAMES');
  });

  it('more frames than any message has, before the head is read', () => {
    const f = Array.from({ length: MAX_PAYLOAD_FRAMES + 1 }, () => Buffer.alloc(8));
    expect(rejected(decodeFrames(f)).reason).toBe(
      `BAD_FRAMES: message has ${MAX_PAYLOAD_FRAMES + 1} payload frames, max ${MAX_PAYLOAD_FRAMES}`,
    );
    expect(rejected(decodeFrames([])).code).toBe('BAD_FRAMES');
  });

  it('several frames whose first is not a protocol head', () => {
    expect(rejected(decodeFrames([Buffer.from('two'), Buffer.from('frames')])).reason).toBe(
      'BAD_FRAMES: message has 2 payload frames and the first is not a protocol header',
    );
  });

  it('a section frame shorter or longer than the head declares', () => {
    const f = frames();
    f[1] = f[1].subarray(0, f[1].length - 4);
    expect(rejected(decodeFrames(f)).reason).toBe(
      `TRUNCATED: rollout.obs ends at byte ${128 * 64 * 4 * 4} of frame 1, which has ${128 * 64 * 4 * 4 - 4}`,
    );
    const g = frames();
    g[3] = Buffer.concat([g[3], Buffer.alloc(4)]);
    expect(rejected(decodeFrames(g)).code).toBe('LENGTH_MISMATCH');
  });

  it('masks naming sections the message does not have, or a run start that is not out of line', () => {
    const f = frames();
    f[0].writeUInt16LE(f[0].readUInt16LE(12) | (1 << 13), 12);
    expect(rejected(decodeFrames(f)).reason).toBe(
      'BAD_HEADER: rollout out-of-line mask 0x20bd, run-start mask 0xbd names sections beyond its 12',
    );
    const g = frames();
    g[0].writeUInt16LE(0xbd | 2, 14);
    expect(rejected(decodeFrames(g)).reason).toBe(
      'BAD_HEADER: rollout out-of-line mask 0xbd, run-start mask 0xbf: a run starts at a section that is not out of line',
    );
  });

  it('a run frame whose sections do not end exactly at its end, or a run continued after an inline section', () => {
    const m2 = packed(makeRollout(128, 64));
    const f = copies(encodeFrames(m2));
    expect(rejected(decodeFrames([f[0], Buffer.concat([f[1], Buffer.alloc(4)])])).reason).toBe(
      `LENGTH_MISMATCH: rollout frame 1 has ${f[1].length + 4} bytes, its sections end at ${f[1].length}`,
    );
    expect(rejected(decodeFrames([f[0], f[1].subarray(0, f[1].length - 1)])).code).toBe('TRUNCATED');
    // Section 1 (lastObs) out of line without a run open: obs inline, lastObs marked as continuing.
    const one = encode(m2);
    one.writeUInt16LE(0b10, 12);
    expect(rejected(decodeFrames([one])).reason).toBe(
      'BAD_HEADER: rollout.lastObs continues a run that is not open (out-of-line mask 0x2, run-start mask 0x0)',
    );
  });

  it('a head whose inline sections do not fill it exactly', () => {
    const f = frames();
    expect(rejected(decodeFrames([Buffer.concat([f[0], Buffer.alloc(8)]), ...f.slice(1)])).code).toBe('LENGTH_MISMATCH');
    expect(rejected(decodeFrames([f[0].subarray(0, f[0].length - 8), ...f.slice(1)])).code).toBe('TRUNCATED');
  });

  it('a consistent multi-frame message with inconsistent shapes is still a SHAPE_MISMATCH', () => {
    const bad = { ...m, obs: new Float32Array(m.obs.length - 4) };
    expect(rejected(decodeFrames(copies(encodeFrames(bad)))).code).toBe('SHAPE_MISMATCH');
  });

  it('a single frame whose masks name a run frame that is not there', () => {
    const one = encode(m);
    one.writeUInt16LE(1, 12);
    one.writeUInt16LE(1, 14);
    expect(rejected(decode(one)).code).toBe('BAD_FRAMES');
  });
});
