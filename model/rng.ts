/**
 * A small seeded PRNG (sfc32, seeded through splitmix32) for everything random in isreshape:
 * parameter initialisation, environment resets and action sampling. Pure 32-bit integer
 * math, so a seed gives the same stream on every platform; `normal()` uses Math.log/cos/sqrt,
 * which V8 computes with the same fdlibm-derived code everywhere.
 */
import { fnv1a32, mix32 } from './hash.js';

const TWO_POW_M32 = 1 / 4294967296;

/** Four 32-bit words: the whole state of an `Rng` (see `state()` / `Rng.fromState`). */
export type RngState = readonly [number, number, number, number];

/** Seeded sfc32 generator. Not cryptographic. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** Seed from a u32 (any number is truncated to 32 bits) or a string (hashed with FNV-1a). */
  constructor(seed: number | string) {
    const s = typeof seed === 'string' ? fnv1a32(seed) : seed >>> 0;
    this.a = mix32(s);
    this.b = mix32(s + 0x6a09e667);
    this.c = mix32(s + 0x3c6ef372);
    this.d = 1;
    this.warmUp();
  }

  /** Restore a generator from `state()`; it continues exactly where that one was. */
  static fromState(st: RngState): Rng {
    const r = new Rng(0);
    [r.a, r.b, r.c, r.d] = [st[0] | 0, st[1] | 0, st[2] | 0, st[3] | 0];
    return r;
  }

  /** Continue from `state()` in place (for holders of a readonly Rng, e.g. on resume). */
  setState(st: RngState): void {
    [this.a, this.b, this.c, this.d] = [st[0] | 0, st[1] | 0, st[2] | 0, st[3] | 0];
  }

  /** The current state (four words); `Rng.fromState(r.state())` replays r's future draws. */
  state(): RngState {
    return [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0];
  }

  /** Next raw 32-bit output as an unsigned integer. */
  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  uniform(): number {
    return this.nextU32() * TWO_POW_M32;
  }

  /** Uniform in [lo, hi). */
  uniformRange(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Standard normal draw (Box-Muller, one draw per two uniforms, no cached spare). */
  normal(): number {
    const u1 = 1 - this.uniform(); // (0, 1]: log is finite
    const u2 = this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Integer in [0, n) for 1 <= n <= 2^32 (floor of a 32-bit uniform; bias < n / 2^32). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /**
   * An independent substream numbered `stream` (e.g. one per worker or env). Does not advance
   * this generator, so `fork(k)` is a pure function of this state and k; different k give
   * unrelated streams.
   */
  fork(stream: number): Rng {
    const k = mix32((stream >>> 0) ^ 0x5bd1e995);
    const r = new Rng(0);
    r.a = mix32(this.a ^ k);
    r.b = mix32((this.b + k) | 0);
    r.c = mix32(this.c ^ mix32(k));
    r.d = mix32((this.d - k) | 0);
    r.warmUp();
    return r;
  }

  private warmUp(): void {
    for (let i = 0; i < 12; i++) this.nextU32();
  }
}

/** A uniformly random permutation of 0..n-1 (Fisher-Yates, one `rng.int(k + 1)` per k from n - 1 down to 1). */
export function permutation(n: number, rng: { int(n: number): number }): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
