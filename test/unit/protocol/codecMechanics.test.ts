/**
 * The encode/decode mechanics of typed-array sections: encode writes into an unfilled buffer,
 * so every padding byte must be zeroed explicitly (whatever the buffer held before), and
 * decode returns views into the received bytes (no copy) when they are aligned.
 */
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../../protocol/codec.js';
import { MsgType, type RolloutMsg } from '../../../protocol/messages.js';
import { makeRollout } from './helpers.js';

/** Dirty Node's Buffer pool so that an unzeroed byte in a new encoding would show. */
function dirtyPool(): void {
  for (let i = 0; i < 64; i++) Buffer.allocUnsafe(1 + (i % 7) * 512).fill(0xab);
}

/** [start, end) of every section's padding, from the header of an encoded message. */
function paddings(buf: Buffer): [number, number][] {
  const nFixed = buf.readUInt16LE(8);
  const nSections = buf.readUInt16LE(10);
  const table = 16 + 8 * nFixed;
  let off = (table + 4 * nSections + 7) & ~7;
  const out: [number, number][] = [[table + 4 * nSections, off]];
  for (let i = 0; i < nSections; i++) {
    const len = buf.readUInt32LE(table + 4 * i);
    const end = off + ((len + 7) & ~7);
    out.push([off + len, end]);
    off = end;
  }
  expect(off).toBe(buf.length);
  return out;
}

describe('codec section mechanics', () => {
  for (const [T, E] of [
    [3, 1],
    [5, 3],
    [32, 4],
    [128, 64],
  ] as const) {
    it(`T=${T} E=${E}: header reserved bytes and every padding byte are 0 on a dirty pool`, () => {
      dirtyPool();
      const msg = makeRollout(T, E, 3, { truncateEvery: 2, episodes: 3 });
      const buf = encode(msg);
      expect(buf.readUInt32LE(12)).toBe(0);
      const pads = paddings(buf);
      expect(pads.some(([a, b]) => b > a)).toBe(true); // odd lengths: there is padding to check
      for (const [a, b] of pads) for (let i = a; i < b; i++) expect(buf[i], `byte ${i}`).toBe(0);
      // Same bytes as a second encoding on a differently dirtied pool.
      Buffer.allocUnsafe(100).fill(0x5c);
      expect(encode(msg).equals(buf)).toBe(true);
    });
  }

  it('decode returns views into an aligned input (no copy), copies otherwise', () => {
    const msg = makeRollout(16, 4, 4);
    const buf = encode(msg);
    const r = decode(buf);
    expect(r.ok).toBe(true);
    const m = (r as { msg: RolloutMsg }).msg;
    expect(m.type).toBe(MsgType.Rollout);
    expect(m.obs.buffer).toBe(buf.buffer);
    expect(m.actions.buffer).toBe(buf.buffer);
    expect(Array.from(m.obs)).toEqual(Array.from(msg.obs));
    // Misaligned by one byte: copies, same values.
    const shifted = new Uint8Array(buf.length + 1);
    shifted.set(buf, 1);
    const r2 = decode(shifted.subarray(1));
    expect(r2.ok).toBe(true);
    const m2 = (r2 as { msg: RolloutMsg }).msg;
    expect(m2.obs.buffer).not.toBe(shifted.buffer);
    expect(Array.from(m2.obs)).toEqual(Array.from(msg.obs));
  });
});
