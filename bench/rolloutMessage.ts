/** The synthetic rollout message the throughput benchmarks (codec, transport, pipeline, scaling) send. */
import { MsgType, type RolloutMsg } from '../protocol/messages.js';

/** A CartPole-shaped rollout message of T x E samples with obsDim-wide observations. */
export function rolloutMessage(T: number, E: number, obsDim: number): RolloutMsg {
  const n = T * E;
  const truncated = Uint8Array.from({ length: n }, (_, i) => (i % 97 === 96 ? 1 : 0));
  const nTr = truncated.reduce((a, x) => a + x, 0);
  return {
    type: MsgType.Rollout,
    actorId: 0,
    seq: 0,
    workerId: 0,
    behaviourVersion: 1,
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
  };
}
