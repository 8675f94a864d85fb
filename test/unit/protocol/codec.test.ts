import { describe, expect, it } from 'vitest';
import { decode, encode, MAX_ROLLOUT_STEPS, MAX_STRING_BYTES, type DecodeResult } from '../../../protocol/codec.js';
import { ProtocolError } from '../../../protocol/errors.js';
import { AckStatus, DROP_REASONS, MsgType, PROTOCOL_MAGIC, PROTOCOL_VERSION, type Message } from '../../../protocol/messages.js';
import { makeRollout, rolloutDiff } from './helpers.js';

function roundTrip(msg: Message): Message {
  const r = decode(encode(msg));
  if (!r.ok) throw new Error(r.reason);
  return r.msg;
}

function roundTripBytes(b: Uint8Array): Message {
  const r = decode(b);
  if (!r.ok) throw new Error(r.reason);
  return r.msg;
}

function rejected(r: DecodeResult): { code: string; reason: string } {
  if (r.ok) throw new Error('expected a rejection, got ok');
  return r;
}

/** Copy `bytes` into a fresh buffer at `offset` and return the view starting there. */
function atOffset(bytes: Uint8Array, offset: number): Buffer {
  const big = Buffer.alloc(bytes.length + offset + 3);
  big.set(bytes, offset);
  return big.subarray(offset, offset + bytes.length);
}

describe('codec round trip', () => {
  it('hello', () => {
    const m: Message = {
      type: MsgType.Hello,
      actorId: 7,
      envId: 'CartPole-v1',
      obsDim: 4,
      nActions: 2,
      numEnvs: 16,
      modelHash: 0xdeadbeef,
      incarnation: 7,
    };
    expect(roundTrip(m)).toEqual(m);
    const neg = { ...m, modelHash: -123456, envId: 'Ünïcode-环境' };
    expect(roundTrip(neg)).toEqual(neg);
  });

  it.each([
    ['T=32 E=8 with truncations', makeRollout(32, 8, 4, { truncateEvery: 5 })],
    ['T=1 E=1, no episodes, no truncations', makeRollout(1, 1, 4, { episodes: 0 })],
    ['obsDim=3 (odd sizes, padding)', makeRollout(3, 5, 3, { truncateEvery: 2, episodes: 1 })],
    ['T=128 E=64', makeRollout(128, 64, 4, { truncateEvery: 97, episodes: 9 })],
  ])('rollout %s', (_name, m) => {
    const back = roundTrip(m);
    expect(back.type).toBe(MsgType.Rollout);
    expect(rolloutDiff(back as typeof m, m)).toEqual([]);
  });

  it('rolloutDiff sees a changed array (the comparison can fail)', () => {
    const m = makeRollout(2, 2);
    expect(rolloutDiff(m, { ...m, rewards: new Float32Array(4) })).toEqual(['rewards']);
    expect(rolloutDiff(m, { ...m, actions: new Int32Array(m.actions.buffer) as unknown as Int32Array, seq: 1 })).toEqual(['seq']);
  });

  it('rollout at T * E = MAX_ROLLOUT_STEPS', () => {
    const m = makeRollout(1024, MAX_ROLLOUT_STEPS / 1024, 1, { episodes: 0 });
    const back = roundTrip(m);
    expect(rolloutDiff(back as typeof m, m)).toEqual([]);
  });

  it('params, acks of every status, reject, actor stats, stop', () => {
    const msgs: Message[] = [
      { type: MsgType.Params, version: 12, modelHash: 99, params: Float32Array.from([1.5, -2, 3e-8]) },
      { type: MsgType.Params, version: 0, modelHash: 0, params: new Float32Array(0) },
      { type: MsgType.Params, version: 3, modelHash: 7, params: Float32Array.from([1]), runId: 'CartPole-v1_ppo_none_s1_20261129T010203' },
      { type: MsgType.Ack, seq: 4, version: 9, status: AckStatus.Dropped, drop: 'queue-full', detail: 'queue-full' },
      { type: MsgType.Ack, seq: 5, version: 9, status: AckStatus.Dropped, drop: 'shutdown', detail: '' },
      { type: MsgType.Ack, seq: 0, version: 0, status: AckStatus.Trained },
      {
        type: MsgType.Ack,
        seq: 3,
        version: 2,
        status: AckStatus.Rejected,
        code: 'FUTURE_VERSION',
        reason: 'FUTURE_VERSION: behaviourVersion 5 is newer than 2',
      },
      { type: MsgType.Ack, seq: 3, version: 2, status: AckStatus.Rejected, code: 'TRUNCATED', reason: 'TRUNCATED: x' },
      { type: MsgType.Stop, version: 17, reason: 'step budget 2048 reached' },
      { type: MsgType.Stop, version: 0, reason: '' },
      { type: MsgType.Reject, reason: 'MODEL_HASH: hello.modelHash is 1' },
      { type: MsgType.Reject, reason: '' },
      { type: MsgType.ActorStats, actorId: 2, stats: { fps: 1234.5, segmentsSent: 10, lagUsed: -0.25 } },
      { type: MsgType.ActorStats, actorId: 0, stats: {} },
    ];
    for (const m of msgs) expect(roundTrip(m)).toEqual(m);
  });

  it('cuts an over-long reason at a UTF-8 character boundary', () => {
    const back = roundTrip({ type: MsgType.Reject, reason: 'é'.repeat(300) });
    expect(back.type).toBe(MsgType.Reject);
    const r = (back as { reason: string }).reason;
    expect(Buffer.byteLength(r)).toBeLessThanOrEqual(MAX_STRING_BYTES);
    expect(r).toBe('é'.repeat(128));
  });

  it('decodes at every byteOffset, viewing when aligned and copying otherwise', () => {
    const m = makeRollout(4, 3, 4, { truncateEvery: 3 });
    const bytes = encode(m);
    for (let off = 0; off < 9; off++) {
      const buf = atOffset(bytes, off);
      const r = decode(buf);
      expect(r.ok).toBe(true);
      if (!r.ok || r.msg.type !== MsgType.Rollout) continue;
      expect(rolloutDiff(r.msg, m)).toEqual([]);
      expect(r.msg.obs.buffer === buf.buffer).toBe(buf.byteOffset % 4 === 0);
    }
  });

  it('encode is deterministic (padding is zeroed)', () => {
    const m = makeRollout(3, 3, 3, { truncateEvery: 4 });
    expect(encode(m).equals(encode(m))).toBe(true);
  });
});

describe('codec header errors', () => {
  const valid = encode(makeRollout(2, 2));

  it('bad magic', () => {
    const b = Buffer.from(valid);
    b.writeUInt32LE(0x12345678, 0);
    const r = rejected(decode(b));
    expect(r.code).toBe('BAD_MAGIC');
    expect(r.reason).toContain('0x12345678');
    expect(valid.readUInt32LE(0)).toBe(PROTOCOL_MAGIC);
  });

  it('bad version', () => {
    const b = Buffer.from(valid);
    b.writeUInt16LE(PROTOCOL_VERSION + 1, 4);
    expect(rejected(decode(b))).toMatchObject({ code: 'BAD_VERSION' });
  });

  it('unknown type', () => {
    const b = Buffer.from(valid);
    b.writeUInt16LE(99, 6);
    const r = rejected(decode(b));
    expect(r.code).toBe('UNKNOWN_TYPE');
    expect(r.reason).toContain('99');
  });

  it('wrong field/section counts for the type', () => {
    const b = Buffer.from(valid);
    b.writeUInt16LE(MsgType.Params, 6);
    expect(rejected(decode(b)).code).toBe('BAD_HEADER');
  });

  it('truncated and over-long messages', () => {
    expect(rejected(decode(new Uint8Array(0))).code).toBe('TRUNCATED');
    expect(rejected(decode(valid.subarray(0, 10))).code).toBe('TRUNCATED');
    expect(rejected(decode(valid.subarray(0, valid.length - 8))).code).toBe('TRUNCATED');
    expect(rejected(decode(Buffer.concat([valid, Buffer.alloc(8)]))).code).toBe('LENGTH_MISMATCH');
  });

  it('non-integer header field names the field', () => {
    const b = Buffer.from(valid);
    b.writeDoubleLE(1.5, 16 + 8 * 1); // rollout.seq
    const r = rejected(decode(b));
    expect(r.code).toBe('BAD_FIELD');
    expect(r.reason).toContain('rollout.seq is 1.5');
  });

  it('section length that disagrees with the declared shape', () => {
    const m = makeRollout(2, 2);
    const r = rejected(decode(encode({ ...m, rewards: new Float32Array(3) })));
    expect(r.code).toBe('SHAPE_MISMATCH');
    expect(r.reason).toContain('rollout.rewards has 12 bytes');
    const ep = rejected(decode(encode({ ...m, episodeLengths: new Int32Array(1) })));
    expect(ep.code).toBe('SHAPE_MISMATCH');
  });

  it('T * E over the limit', () => {
    const r = rejected(decode(encode({ ...makeRollout(1, 1), T: 2048, E: 1024 })));
    expect(r.code).toBe('TOO_LARGE');
  });

  it('bad ack status or code, bad UTF-8, bad stats JSON', () => {
    const ack = encode({ type: MsgType.Ack, seq: 1, version: 1, status: AckStatus.Dropped, drop: 'stale', detail: '' });
    const fx = (i: number) => 16 + 8 * i; // fixed fields: seq, version, status, code
    const bad = (field: number, x: number) => {
      const b = Buffer.from(ack);
      b.writeDoubleLE(x, fx(field));
      return rejected(decode(b));
    };
    expect(bad(2, 3).code).toBe('BAD_FLAG');
    expect(bad(3, DROP_REASONS.length).reason).toMatch(
      new RegExp(`^BAD_FIELD: ack.code is ${DROP_REASONS.length}, expected a drop reason index`),
    );
    const last = Buffer.from(ack);
    last.writeDoubleLE(3, fx(3));
    expect(roundTripBytes(last)).toMatchObject({ status: AckStatus.Dropped, drop: 'shutdown' });
    const rj = Buffer.from(ack);
    rj.writeDoubleLE(AckStatus.Rejected, fx(2));
    rj.writeDoubleLE(9999, fx(3));
    expect(rejected(decode(rj)).reason).toMatch(/an error code index/);
    const tr = Buffer.from(ack);
    tr.writeDoubleLE(AckStatus.Trained, fx(2));
    tr.writeDoubleLE(1, fx(3));
    expect(rejected(decode(tr)).reason).toMatch(/trained rollout has code 1/);
    const rej = encode({ type: MsgType.Reject, reason: 'ab' });
    rej[rej.length - 8] = 0xff; // first byte of the reason section
    expect(rejected(decode(rej)).code).toBe('BAD_STRING');
    const st = encode({ type: MsgType.ActorStats, actorId: 1, stats: { a: 1 } }); // '{"a":1}' -> '[1,2,3]'
    const at = st.indexOf('{"a":1}');
    st.write('[1,2,3]', at);
    expect(rejected(decode(st)).code).toBe('BAD_STATS');
    st.write('{"a":"', at);
    expect(rejected(decode(st)).code).toBe('BAD_STATS');
  });
});

describe('protocol version', () => {
  it('is 4 (multi-frame messages, params carry the run id), and a message of version 1 or 3 is rejected as BAD_VERSION', () => {
    expect(PROTOCOL_VERSION).toBe(4);
    const b = encode({ type: MsgType.Stop, version: 1, reason: 'x' });
    b.writeUInt16LE(1, 4);
    expect(rejected(decode(b)).reason).toBe('BAD_VERSION: protocol version is 1, this build speaks 4');
    // A version-3 actor's hello (the same layout, offset 12 reserved 0) is refused by name, not misread.
    const h = encode({
      type: MsgType.Hello,
      actorId: 0,
      envId: 'CartPole-v1',
      obsDim: 4,
      nActions: 2,
      numEnvs: 1,
      modelHash: 1,
      incarnation: 2,
    });
    h.writeUInt16LE(3, 4);
    expect(rejected(decode(h)).reason).toBe('BAD_VERSION: protocol version is 3, this build speaks 4');
  });
});

describe('encode rejects unrepresentable messages', () => {
  it('throws ProtocolError with a code', () => {
    const ack = { type: MsgType.Ack, seq: 1, version: 1 } as const;
    expect(() => encode({ ...ack, status: AckStatus.Dropped, drop: 'late' as 'stale', detail: '' })).toThrow(
      /BAD_FIELD: ack.drop is 'late'/,
    );
    expect(() => encode({ ...ack, status: AckStatus.Rejected, code: 'NOPE' as 'TRUNCATED', reason: '' })).toThrow(
      /BAD_FIELD: ack.code is 'NOPE'/,
    );
    expect(() => encode({ ...ack, status: 7 as AckStatus.Trained })).toThrow(/BAD_FLAG/);
    const hello = { type: MsgType.Hello, actorId: 1, envId: '', obsDim: 4, nActions: 2, numEnvs: 1, modelHash: 1, incarnation: 7 } as const;
    expect(() => encode(hello)).toThrow(ProtocolError);
    expect(() => encode({ ...hello, envId: 'x'.repeat(257) })).toThrow(/BAD_STRING/);
    expect(() => encode({ ...makeRollout(1, 1), seq: -1 })).toThrow(/BAD_FIELD: rollout.seq is -1/);
    expect(() => encode({ type: MsgType.ActorStats, actorId: 1, stats: { fps: NaN } })).toThrow(/BAD_STATS/);
  });
});

describe('section lengths near 2^32', () => {
  it('a section length of 0xfffffff8 is TRUNCATED, not wrapped into a negative padding', async () => {
    const { makeRollout } = await import('./helpers.js');
    const b = encode(makeRollout(2, 2));
    b.writeUInt32LE(0xfffffff8, 16 + 8 * 8); // the first section length, after the header and the 8 fixed fields
    const r = decode(b);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.code).toBe('TRUNCATED');
  });
});

describe('rollout sections: the teacher source and box actions, every combination', () => {
  it('decodes each optional section into its own field, whichever others are present', async () => {
    const { makeRollout } = await import('./helpers.js');
    const T = 3,
      E = 2,
      A = 2;
    for (const withSource of [false, true]) {
      for (const box of [false, true]) {
        const base = makeRollout(T, E);
        const source = Uint8Array.from([1, 0]);
        const boxActions = Float32Array.from({ length: T * E * A }, (_, i) => i - 2.5);
        const msg = {
          ...base,
          ...(withSource ? { source } : {}),
          ...(box ? { actions: new Int32Array(0), boxActions } : {}),
        };
        const r = decode(encode(msg));
        expect(r.ok, `source ${withSource}, box ${box}: ${r.ok ? '' : r.reason}`).toBe(true);
        if (!r.ok || r.msg.type !== MsgType.Rollout) continue;
        // An absent source is sent as zeros (all policy); box actions only when given.
        expect(Array.from(r.msg.source ?? [])).toEqual(withSource ? [1, 0] : [0, 0]);
        expect(r.msg.boxActions === undefined).toBe(!box);
        if (box) expect(Array.from(r.msg.boxActions!)).toEqual(Array.from(boxActions));
        expect(Array.from(r.msg.actions)).toEqual(box ? [] : Array.from(base.actions));
        expect(Array.from(r.msg.logmu)).toEqual(Array.from(base.logmu));
      }
    }
  });
});
