/**
 * An independent reader of TensorBoard event files, for tests: a bitwise CRC32C (the writer's
 * is table-driven), its own TFRecord framing and protobuf decoding. Every CRC is checked.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';

export function crc32cBitwise(b: Uint8Array): number {
  let c = ~0 >>> 0;
  for (const byte of b) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0x82f63b78 & -(c & 1));
  }
  return ~c >>> 0;
}
const mask = (c: number) => ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;

export interface Ev {
  wallTime: number;
  step: number;
  fileVersion?: string;
  values: [string, number][];
}

class Pb {
  pos = 0;
  constructor(readonly b: Buffer) {}
  done() {
    return this.pos >= this.b.length;
  }
  varint(): number {
    let x = 0,
      mul = 1,
      byte: number;
    do {
      byte = this.b[this.pos++]!;
      x += (byte & 0x7f) * mul;
      mul *= 128;
    } while (byte & 0x80);
    return x;
  }
  bytes(): Buffer {
    const n = this.varint();
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

export function decodeEvent(b: Buffer): Ev {
  const p = new Pb(b);
  const ev: Ev = { wallTime: NaN, step: 0, values: [] };
  while (!p.done()) {
    const k = p.varint();
    const [field, wire] = [k >> 3, k & 7];
    if (field === 1 && wire === 1) {
      ev.wallTime = b.readDoubleLE(p.pos);
      p.pos += 8;
    } else if (field === 2 && wire === 0) ev.step = p.varint();
    else if (field === 3 && wire === 2) ev.fileVersion = p.bytes().toString('utf8');
    else if (field === 5 && wire === 2) {
      const s = new Pb(p.bytes());
      while (!s.done()) {
        expect(s.varint()).toBe((1 << 3) | 2);
        const v = new Pb(s.bytes());
        let tag = '',
          val = NaN;
        while (!v.done()) {
          const vk = v.varint();
          if (vk === ((1 << 3) | 2)) tag = v.bytes().toString('utf8');
          else if (vk === ((2 << 3) | 5)) {
            val = v.b.readFloatLE(v.pos);
            v.pos += 4;
          } else throw new Error(`unexpected Summary.Value key ${vk}`);
        }
        ev.values.push([tag, val]);
      }
    } else throw new Error(`unexpected Event key field ${field} wire ${wire}`);
  }
  return ev;
}

export function readEvents(path: string): Ev[] {
  const b = readFileSync(path);
  const out: Ev[] = [];
  let pos = 0;
  while (pos < b.length) {
    const lenBytes = b.subarray(pos, pos + 8);
    const len = Number(b.readBigUInt64LE(pos));
    expect(b.readUInt32LE(pos + 8), `length CRC at ${pos}`).toBe(mask(crc32cBitwise(lenBytes)));
    const data = b.subarray(pos + 12, pos + 12 + len);
    expect(b.readUInt32LE(pos + 12 + len), `data CRC at ${pos}`).toBe(mask(crc32cBitwise(data)));
    out.push(decodeEvent(Buffer.from(data)));
    pos += 12 + len + 4;
  }
  expect(pos).toBe(b.length);
  return out;
}
