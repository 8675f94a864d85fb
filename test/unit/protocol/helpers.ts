/** Message builders shared by the protocol tests. */
import type { EnvSpec } from '../../../model/spec.js';
import { MsgType, type RolloutMsg } from '../../../protocol/messages.js';

export const CARTPOLE: EnvSpec = { id: 'CartPole-v1', obsDim: 4, nActions: 2, maxEpisodeSteps: 500, rewardRange: [0, 1] };

/** A deterministic, valid rollout of T x E steps; `truncateEvery` > 0 truncates every k-th step. */
export function makeRollout(
  T: number,
  E: number,
  obsDim = 4,
  opts: { truncateEvery?: number; episodes?: number; seq?: number } = {},
): RolloutMsg {
  const n = T * E;
  const truncated = new Uint8Array(n);
  const terminated = new Uint8Array(n);
  const k = opts.truncateEvery ?? 0;
  let nTrunc = 0;
  for (let i = 0; i < n; i++) {
    if (k > 0 && i % k === k - 1) {
      truncated[i] = 1;
      nTrunc++;
    } else if (i % 7 === 3) terminated[i] = 1;
  }
  const nEp = opts.episodes ?? 2;
  return {
    type: MsgType.Rollout,
    actorId: 3,
    seq: opts.seq ?? 17,
    workerId: 1,
    behaviourVersion: 42,
    T,
    E,
    obsDim,
    obs: Float32Array.from({ length: n * obsDim }, (_, i) => Math.sin(i)),
    lastObs: Float32Array.from({ length: E * obsDim }, (_, i) => Math.cos(i)),
    actions: Int32Array.from({ length: n }, (_, i) => i % 2),
    rewards: Float32Array.from({ length: n }, () => 1),
    terminated,
    truncated,
    finalObs: Float32Array.from({ length: nTrunc * obsDim }, (_, i) => i * 0.5),
    logmu: Float32Array.from({ length: n }, (_, i) => -0.1 - (i % 5) * 0.1),
    episodeReturns: Float32Array.from({ length: nEp }, (_, i) => 10 + i),
    episodeLengths: Int32Array.from({ length: nEp }, (_, i) => 10 + i),
  };
}

const ARRAY_FIELDS = [
  'obs',
  'lastObs',
  'actions',
  'rewards',
  'terminated',
  'truncated',
  'finalObs',
  'logmu',
  'episodeReturns',
  'episodeLengths',
] as const;

/** Fields on which two rollouts differ (typed arrays compared by type and bytes; fast for big ones). */
export function rolloutDiff(a: RolloutMsg, b: RolloutMsg): string[] {
  const diff: string[] = [];
  for (const k of ['type', 'actorId', 'seq', 'workerId', 'behaviourVersion', 'T', 'E', 'obsDim'] as const) if (a[k] !== b[k]) diff.push(k);
  for (const k of ARRAY_FIELDS) {
    const x = a[k];
    const y = b[k];
    const same =
      x.constructor === y.constructor &&
      Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength));
    if (!same) diff.push(k);
  }
  return diff;
}
