/**
 * Codec throughput: encode, decode and validateRollout of rollout-sized messages, in MB/s of
 * encoded bytes. Prints figures only (no asserts). Run: `npx tsc -p . && node dist/bench/codec-throughput.js`.
 */
import { decode, encode } from '../protocol/codec.js';
import { MsgType, type RolloutMsg } from '../protocol/messages.js';
import { validateRollout } from '../protocol/validate.js';

function rollout(T: number, E: number, obsDim: number): RolloutMsg {
  const n = T * E;
  const truncated = Uint8Array.from({ length: n }, (_, i) => (i % 97 === 96 ? 1 : 0));
  const nTr = truncated.reduce((a, x) => a + x, 0);
  return {
    type: MsgType.Rollout,
    actorId: 1,
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

/** Run `fn` for about `ms` milliseconds; return iterations per second. */
function rate(fn: () => void, ms = 600): number {
  for (let i = 0; i < 20; i++) fn();
  let iters = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    fn();
    iters++;
  }
  return (iters * 1000) / (performance.now() - t0);
}

const env = { id: 'CartPole-v1', obsDim: 4, nActions: 2, maxEpisodeSteps: 500 };
for (const [T, E] of [
  [32, 8],
  [128, 64],
]) {
  const m = rollout(T, E, 4);
  const bytes = encode(m);
  const mb = bytes.length / 1e6;
  const enc = rate(() => encode(m));
  const dec = rate(() => decode(bytes));
  const round = rate(() => decode(encode(m)));
  const val = rate(() => validateRollout(m, env));
  console.log(
    `T=${T} E=${E} obsDim=4: ${bytes.length} B/msg | encode ${(enc * mb).toFixed(0)} MB/s (${enc.toFixed(0)} msg/s)` +
      ` | decode ${(dec * mb).toFixed(0)} MB/s | encode+decode ${(round * mb).toFixed(0)} MB/s (${round.toFixed(0)} msg/s)` +
      ` | validateRollout ${(val * mb).toFixed(0)} MB/s | ratio decode/encode ${(dec / enc).toFixed(1)}`,
  );
}
