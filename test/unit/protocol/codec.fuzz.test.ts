import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, encode, type DecodeResult } from '../../../protocol/codec.js';
import { PROTOCOL_ERRORS } from '../../../protocol/errors.js';
import { AckStatus, MsgType, PROTOCOL_MAGIC, PROTOCOL_VERSION, type Message } from '../../../protocol/messages.js';
import { validateHello, validateParams, validateRollout } from '../../../protocol/validate.js';
import { CARTPOLE, makeRollout, rolloutDiff } from './helpers.js';

/** Decode, then run the matching validator; fails the property if either throws. */
function decodeAndValidate(buf: Uint8Array): DecodeResult {
  const r = decode(buf);
  if (!r.ok) {
    expect(Object.keys(PROTOCOL_ERRORS)).toContain(r.code);
    expect(r.reason.startsWith(`${r.code}: `)).toBe(true);
    return r;
  }
  const m = r.msg;
  let v: string | null = null;
  if (m.type === MsgType.Rollout) v = validateRollout(m, CARTPOLE);
  if (m.type === MsgType.Hello) v = validateHello(m, { modelHash: 1, env: CARTPOLE });
  if (m.type === MsgType.Params) v = validateParams(m, { modelHash: 1, paramCount: 3 });
  expect(v === null || typeof v === 'string').toBe(true);
  return r;
}

const VALID: Message[] = [
  makeRollout(4, 3, 4, { truncateEvery: 5 }),
  makeRollout(1, 1, 4, { episodes: 0 }),
  { type: MsgType.Hello, actorId: 1, envId: 'CartPole-v1', obsDim: 4, nActions: 2, numEnvs: 8, modelHash: 1, incarnation: 7 },
  { type: MsgType.Params, version: 2, modelHash: 1, params: Float32Array.from([1, 2, 3]) },
  { type: MsgType.Ack, seq: 5, version: 2, status: AckStatus.Trained },
  { type: MsgType.Ack, seq: 6, version: 2, status: AckStatus.Dropped, drop: 'stale', detail: 'stale: lag 3 > 2' },
  {
    type: MsgType.Ack,
    seq: 7,
    version: 2,
    status: AckStatus.Rejected,
    code: 'NOT_FINITE',
    reason: 'NOT_FINITE: rollout.rewards[0] is NaN',
  },
  { type: MsgType.Stop, version: 9, reason: 'step budget reached' },
  { type: MsgType.Reject, reason: 'no' },
  { type: MsgType.ActorStats, actorId: 1, stats: { fps: 10, sent: 3 } },
];
const ENCODED = VALID.map(encode);

describe('decode never throws', () => {
  it('on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (b) => {
        decodeAndValidate(b);
      }),
      { numRuns: 1000 },
    );
  });

  it('on structurally valid headers with random fields, lengths and data', () => {
    const COUNTS: Record<number, [number, number]> = { 1: [5, 1], 2: [7, 10], 3: [2, 1], 4: [4, 1], 5: [1, 1], 6: [0, 1], 7: [1, 1] };
    const arb = fc.record({
      type: fc.integer({ min: 1, max: 7 }),
      fixed: fc.array(fc.oneof(fc.nat(8), fc.double()), { minLength: 7, maxLength: 7 }),
      lengths: fc.array(
        fc.oneof(
          fc.nat(8).map((x) => x * 4),
          fc.nat(70),
        ),
        { minLength: 10, maxLength: 10 },
      ),
      // exact-length buffers half the time: otherwise few runs get past the length checks
      slack: fc.oneof(fc.constant(0), fc.integer({ min: -9, max: 9 })),
      seed: fc.nat(),
    });
    let ok = 0;
    fc.assert(
      fc.property(arb, ({ type, fixed, lengths, slack, seed }) => {
        const [nFixed, nSections] = COUNTS[type];
        const dataStart = (16 + 8 * nFixed + 4 * nSections + 7) & ~7;
        const total = lengths.slice(0, nSections).reduce((a, n) => a + ((n + 7) & ~7), dataStart);
        const b = Buffer.alloc(Math.max(16, total + slack));
        for (let i = dataStart; i < b.length; i++) b[i] = (seed * (i + 1)) >>> 3;
        b.writeUInt32LE(PROTOCOL_MAGIC, 0);
        b.writeUInt16LE(PROTOCOL_VERSION, 4);
        b.writeUInt16LE(type, 6);
        b.writeUInt16LE(nFixed, 8);
        b.writeUInt16LE(nSections, 10);
        for (let i = 0; i < nFixed && 16 + 8 * i + 8 <= b.length; i++) b.writeDoubleLE(fixed[i], 16 + 8 * i);
        for (let i = 0; i < nSections && 16 + 8 * nFixed + 4 * i + 4 <= b.length; i++) b.writeUInt32LE(lengths[i], 16 + 8 * nFixed + 4 * i);
        if (decodeAndValidate(b).ok) ok++;
      }),
      { numRuns: 1500 },
    );
    expect(ok).toBeGreaterThan(0); // the generator reaches the message builders, not only header checks
  });

  it('rejects every strict prefix of a valid rollout (exhaustive for a small one, sampled for a big one)', () => {
    const small = ENCODED[0];
    for (let n = 0; n < small.length; n++) expect(decode(small.subarray(0, n)).ok).toBe(false);
    const big = encode(makeRollout(64, 16, 4, { truncateEvery: 9 }));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: big.length - 1 }), (n) => {
        expect(decodeAndValidate(big.subarray(0, n)).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('on bit flips of valid messages of every type', () => {
    const arb = fc.tuple(fc.integer({ min: 0, max: ENCODED.length - 1 }), fc.array(fc.nat(), { minLength: 1, maxLength: 4 }));
    fc.assert(
      fc.property(arb, ([which, flips]) => {
        const b = Buffer.from(ENCODED[which]);
        for (const f of flips) b[(f >>> 3) % b.length] ^= 1 << (f & 7);
        decodeAndValidate(b);
      }),
      { numRuns: 1500 },
    );
  });

  it('on random section lengths in the header', () => {
    const rollout = ENCODED[0];
    const tableAt = 16 + 8 * 7; // rollout: 7 fixed f64 fields, then 10 u32 lengths
    const arb = fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.oneof(fc.nat(64), fc.nat(), fc.constant(0xffffffff))), {
      minLength: 1,
      maxLength: 3,
    });
    fc.assert(
      fc.property(arb, (edits) => {
        const b = Buffer.from(rollout);
        for (const [i, len] of edits) b.writeUInt32LE(len, tableAt + 4 * i);
        const r = decodeAndValidate(b);
        const unchanged = edits.every(([i]) => b.readUInt32LE(tableAt + 4 * i) === rollout.readUInt32LE(tableAt + 4 * i));
        if (!unchanged) expect(r.ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});

describe('codec round trip, property', () => {
  it('any rollout of any floats (NaN included) survives encode/decode bit-exactly', () => {
    const arb = fc
      .record({
        T: fc.integer({ min: 1, max: 6 }),
        E: fc.integer({ min: 1, max: 4 }),
        obsDim: fc.integer({ min: 1, max: 5 }),
        nEp: fc.nat(3),
        nTr: fc.nat(3),
        off: fc.nat(7),
      })
      .chain((s) =>
        fc.record({
          s: fc.constant(s),
          obs: fc.float32Array({ minLength: s.T * s.E * s.obsDim, maxLength: s.T * s.E * s.obsDim }),
          rewards: fc.float32Array({ minLength: s.T * s.E, maxLength: s.T * s.E }),
          actions: fc.int32Array({ minLength: s.T * s.E, maxLength: s.T * s.E }),
          flags: fc.uint8Array({ minLength: s.T * s.E, maxLength: s.T * s.E }),
          finalObs: fc.float32Array({ minLength: s.nTr * s.obsDim, maxLength: s.nTr * s.obsDim }),
          ret: fc.float32Array({ minLength: s.nEp, maxLength: s.nEp }),
        }),
      );
    fc.assert(
      fc.property(arb, ({ s, obs, rewards, actions, flags, finalObs, ret }) => {
        const base = makeRollout(s.T, s.E, s.obsDim, { episodes: s.nEp });
        const m = { ...base, obs, rewards, actions, terminated: flags, truncated: flags.map((x) => x >> 1), finalObs, episodeReturns: ret };
        const bytes = encode(m);
        const buf = Buffer.alloc(bytes.length + 8).subarray(s.off, s.off + bytes.length);
        buf.set(bytes);
        const r = decodeAndValidate(buf);
        expect(r.ok).toBe(true);
        if (r.ok && r.msg.type === MsgType.Rollout) expect(rolloutDiff(r.msg, m)).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });
});
