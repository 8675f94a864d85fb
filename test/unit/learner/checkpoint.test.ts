import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CheckpointStore,
  CorruptCheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpointFile,
  type Checkpoint,
} from '../../../learner/checkpoint.js';
import { writeFileAtomic } from '../../../infra/fs.js';

function tmp(): string {
  return mkdtempSync(path.join(tmpdir(), 'isr-ckpt-'));
}

function sample(version: number): Checkpoint {
  const params = new Float64Array(1000);
  for (let i = 0; i < params.length; i++) params[i] = Math.sin(i * 0.37 + version) * 1e-3;
  return {
    meta: { version, envSteps: version * 256, rng: [1, 2, 3, 4], counts: { trained: version }, note: 'x' },
    arrays: { params, m: params.map((x) => x * 2), v: new Float64Array([0, -0, Number.MIN_VALUE, 1e308]) },
  };
}

describe('checkpoint encoding', () => {
  it('round-trips meta and every float64 bit for bit', () => {
    const c = sample(7);
    const d = decodeCheckpoint(encodeCheckpoint(c));
    expect(d.meta).toEqual(c.meta);
    expect(Object.keys(d.arrays)).toEqual(['params', 'm', 'v']);
    for (const k of Object.keys(c.arrays)) expect(Buffer.from(d.arrays[k].buffer).equals(Buffer.from(c.arrays[k].buffer))).toBe(true);
    expect(Object.is(d.arrays.v[1], -0)).toBe(true);
  });

  it('rejects a flipped bit anywhere, a truncation, bad magic and trailing bytes, saying why', () => {
    const b = encodeCheckpoint(sample(3));
    for (const at of [0, 9, 20, b.length >> 1, b.length - 40, b.length - 1]) {
      const c = Buffer.from(b);
      c[at] ^= 0x10;
      expect(() => decodeCheckpoint(c)).toThrow(CorruptCheckpointError);
    }
    expect(() => decodeCheckpoint(b.subarray(0, b.length - 1))).toThrow(/checksum/);
    expect(() => decodeCheckpoint(b.subarray(0, 10))).toThrow(/truncated/);
    expect(() => decodeCheckpoint(Buffer.concat([Buffer.from('NOTACKPT'), b.subarray(8)]))).toThrow(/magic/);
  });

  it('refuses a meta without an integer version', () => {
    expect(() => encodeCheckpoint({ meta: { version: 1.5 }, arrays: {} })).toThrow(/version/);
  });
});

describe('CheckpointStore', () => {
  it('keeps the newest K, leaves no temporary file, and loads the newest', () => {
    const dir = tmp();
    try {
      const store = new CheckpointStore(path.join(dir, 'checkpoints'), { keep: 3 });
      expect(store.loadLatest()).toBeNull();
      for (const v of [1, 2, 5, 10, 11]) store.save(sample(v));
      const names = readdirSync(store.dir).sort();
      expect(names).toEqual(['ckpt-0000000005.bin', 'ckpt-0000000010.bin', 'ckpt-0000000011.bin']);
      const latest = store.loadLatest();
      expect(latest?.checkpoint.meta.version).toBe(11);
      expect(latest?.file).toBe(path.join(store.dir, 'ckpt-0000000011.bin'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('skips a corrupt and a truncated newest checkpoint with a reason, and falls back to the previous one', () => {
    const dir = tmp();
    try {
      const skipped: string[] = [];
      const store = new CheckpointStore(dir, { keep: 5, onSkip: (f, why) => skipped.push(`${path.basename(f)}: ${why}`) });
      store.save(sample(1));
      store.save(sample(2));
      const f3 = store.save(sample(3));
      const f2 = path.join(dir, CheckpointStore.fileName(2));
      const bytes = readFileSync(f3);
      bytes[100] ^= 1;
      writeFileSync(f3, bytes);
      truncateSync(f2, 50);
      expect(store.loadLatest()?.checkpoint.meta.version).toBe(1);
      expect(skipped).toHaveLength(2);
      expect(skipped[0]).toMatch(/^ckpt-0000000003\.bin: checksum mismatch/);
      expect(skipped[1]).toMatch(/^ckpt-0000000002\.bin: /);
      expect(() => loadCheckpointFile(f3)).toThrow(f3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ignores files that are not checkpoints, including left-over temporary files', () => {
    const dir = tmp();
    try {
      const store = new CheckpointStore(dir);
      writeFileSync(path.join(dir, '.ckpt-0000000009.bin.tmp-123'), 'partial');
      writeFileSync(path.join(dir, 'notes.txt'), 'hello');
      store.save(sample(4));
      expect(store.list().map((f) => path.basename(f))).toEqual(['ckpt-0000000004.bin']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writeFileAtomic replaces a file whole', () => {
    const dir = tmp();
    try {
      const f = path.join(dir, 'summary.json');
      writeFileAtomic(f, '{"a":1}');
      writeFileAtomic(f, '{"a":2}');
      expect(readFileSync(f, 'utf8')).toBe('{"a":2}');
      expect(readdirSync(dir)).toEqual(['summary.json']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects keep < 1', () => {
    expect(() => new CheckpointStore('/tmp/x', { keep: 0 })).toThrow(/keep/);
  });
});

describe('checkpoints of values that are not finite', () => {
  it('are refused on decode naming the section, and skipped by loadLatest for the older valid one', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'isr-ck-nan-'));
    const skipped: string[] = [];
    const store = new CheckpointStore(dir, { onSkip: (f, r) => skipped.push(`${path.basename(f)}: ${r}`) });
    const good = { meta: { version: 1 }, arrays: { params: new Float64Array([1, 2, 3]), adamM: new Float64Array(3) } };
    store.save(good);
    const bad = { meta: { version: 2 }, arrays: { params: new Float64Array([1, NaN, Infinity]), adamM: new Float64Array(3) } };
    const bytes = encodeCheckpoint(bad); // a correct checksum over NaN parameters
    expect(() => decodeCheckpoint(bytes)).toThrow(/section 'params' holds NaN at index 1 \(2 of 3 values not finite\)/);
    writeFileSync(path.join(dir, CheckpointStore.fileName(2)), bytes);
    expect(store.loadLatest()!.checkpoint.meta.version).toBe(1);
    expect(skipped).toEqual([
      "ckpt-0000000002.bin: section 'params' holds NaN at index 1 (2 of 3 values not finite): refused (its checksum is correct, the values are not usable)",
    ]);
    rmSync(dir, { recursive: true, force: true });
  });
});
