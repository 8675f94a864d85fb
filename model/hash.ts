/**
 * 32-bit FNV-1a and the splitmix32 finaliser: the integer hashing shared by the seeded RNG
 * (string seeds, substreams) and `modelHash`. Pure 32-bit integer math, so every platform
 * produces the same values.
 */

/** Standard FNV-1a over the UTF-8 bytes of `s`, as an unsigned 32-bit integer. */
export function fnv1a32(s: string): number {
  const bytes = Buffer.from(s, 'utf8');
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** splitmix32 output function of `x` (a bijective avalanche mix), as a signed 32-bit int. */
export function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return z ^ (z >>> 16);
}
