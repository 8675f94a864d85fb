/**
 * A segment packed into one ArrayBuffer, so that a worker thread hands it to the actor's main
 * thread by transfer (piscina `move`), not by copy. Layout: an Int32 header
 * [T, E, obsDim, finalObs floats, episodes, box action dimension A (0: discrete)] then the
 * arrays in a fixed order, each starting on a 4-byte boundary.
 */
import type { Segment } from './collect.js';

const HEADER_INTS = 6;
const pad4 = (n: number) => (n + 3) & ~3;

function sizes(T: number, E: number, d: number, nFinal: number, nEp: number, A: number): number[] {
  const n = T * E;
  // obs, lastObs, actions, rewards, terminated, truncated, finalObs, logmu, episodeReturns, episodeLengths, boxActions, source (bytes)
  return [n * d * 4, E * d * 4, A === 0 ? n * 4 : 0, n * 4, pad4(n), pad4(n), nFinal * 4, n * 4, nEp * 4, nEp * 4, n * A * 4, pad4(E)];
}

/** Copy `seg` into one fresh buffer (owned by the caller, transferable). */
export function packSegment(seg: Segment): Uint8Array {
  const A = seg.boxActions === undefined ? 0 : seg.boxActions.length / (seg.T * seg.E);
  const sz = sizes(seg.T, seg.E, seg.obsDim, seg.finalObs.length, seg.episodeReturns.length, A);
  const total = HEADER_INTS * 4 + sz.reduce((a, b) => a + b, 0);
  const buf = new ArrayBuffer(total);
  new Int32Array(buf, 0, HEADER_INTS).set([seg.T, seg.E, seg.obsDim, seg.finalObs.length, seg.episodeReturns.length, A]);
  const parts = [
    seg.obs,
    seg.lastObs,
    seg.actions,
    seg.rewards,
    seg.terminated,
    seg.truncated,
    seg.finalObs,
    seg.logmu,
    seg.episodeReturns,
    seg.episodeLengths,
    seg.boxActions ?? new Float32Array(0),
    seg.source,
  ];
  let off = HEADER_INTS * 4;
  parts.forEach((p, i) => {
    new Uint8Array(buf, off, p.byteLength).set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
    off += sz[i];
  });
  return new Uint8Array(buf);
}

/** Views over a packed segment (no copy). */
export function unpackSegment(u8: Uint8Array): Segment {
  const buf = u8.buffer;
  const base = u8.byteOffset;
  const [T, E, obsDim, nFinal, nEp, A] = new Int32Array(buf, base, HEADER_INTS);
  const sz = sizes(T, E, obsDim, nFinal, nEp, A);
  const n = T * E;
  let off = base + HEADER_INTS * 4;
  const next = (i: number) => {
    const o = off;
    off += sz[i];
    return o;
  };
  return {
    T,
    E,
    obsDim,
    obs: new Float32Array(buf, next(0), n * obsDim),
    lastObs: new Float32Array(buf, next(1), E * obsDim),
    actions: new Int32Array(buf, next(2), A === 0 ? n : 0),
    rewards: new Float32Array(buf, next(3), n),
    terminated: new Uint8Array(buf, next(4), n),
    truncated: new Uint8Array(buf, next(5), n),
    finalObs: new Float32Array(buf, next(6), nFinal),
    logmu: new Float32Array(buf, next(7), n),
    episodeReturns: new Float32Array(buf, next(8), nEp),
    episodeLengths: new Int32Array(buf, next(9), nEp),
    ...(A === 0 ? {} : { boxActions: new Float32Array(buf, next(10), n * A) }),
    source: new Uint8Array(buf, next(11), E), // section 10 is empty when A = 0, so off is at 11 either way
  };
}
