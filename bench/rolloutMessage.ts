/** The synthetic rollout message the throughput benchmarks (codec, transport, pipeline, scaling) send. */
import { packSegment, unpackSegment } from '../actor/segmentPack.js';
import { MsgType, type RolloutMsg } from '../protocol/messages.js';

/**
 * A CartPole-shaped rollout message of T x E samples with obsDim-wide observations. By default
 * its arrays are views into one packed segment, as an actor's are (a worker thread packs each
 * segment into one ArrayBuffer, `actor/segmentPack.ts`, and the actor sends views of it);
 * `packed: false` gives each array its own buffer.
 */
export function rolloutMessage(T: number, E: number, obsDim: number, opts: { packed?: boolean } = {}): RolloutMsg {
  const n = T * E;
  const truncated = Uint8Array.from({ length: n }, (_, i) => (i % 97 === 96 ? 1 : 0));
  const nTr = truncated.reduce((a, x) => a + x, 0);
  const seg = {
    T,
    E,
    obsDim,
    obs: Float32Array.from({ length: n * obsDim }, Math.random),
    lastObs: Float32Array.from({ length: E * obsDim }, Math.random),
    actions: Int32Array.from({ length: n }, (_, i) => i & 1),
    rewards: new Float32Array(n).fill(1),
    terminated: new Uint8Array(n),
    truncated,
    finalObs: new Float32Array(nTr * obsDim),
    logmu: new Float32Array(n).fill(-0.69),
    episodeReturns: Float32Array.from([10, 20]),
    episodeLengths: Int32Array.from([10, 20]),
    source: new Uint8Array(E),
  };
  const arrays = (opts.packed ?? true) ? unpackSegment(packSegment(seg)) : seg;
  return { type: MsgType.Rollout, actorId: 0, seq: 0, workerId: 0, behaviourVersion: 1, ...arrays };
}
