/**
 * Codec throughput: encode, decode and validateRollout of rollout-sized messages, in MB/s of
 * encoded bytes; and the frames form the sockets use (encodeFrames: large sections as views, no
 * copy; decodeFrames). Prints figures only (no asserts). Run: `npx tsc -p . && node dist/bench/codec-throughput.js`.
 */
import { decode, decodeFrames, encode, encodeFrames } from '../protocol/codec.js';
import { rolloutMessage as rollout } from './rolloutMessage.js';
import { validateRollout } from '../protocol/validate.js';

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
  const frames = encodeFrames(m).map((f) => Buffer.from(f));
  const encF = rate(() => encodeFrames(m));
  const decF = rate(() => decodeFrames(frames));
  console.log(
    `T=${T} E=${E} obsDim=4: ${bytes.length} B/msg | encode ${(enc * mb).toFixed(0)} MB/s (${enc.toFixed(0)} msg/s)` +
      ` | decode ${(dec * mb).toFixed(0)} MB/s | encode+decode ${(round * mb).toFixed(0)} MB/s (${round.toFixed(0)} msg/s)` +
      ` | validateRollout ${(val * mb).toFixed(0)} MB/s | ratio decode/encode ${(dec / enc).toFixed(1)}` +
      ` | frames (${frames.length}): encodeFrames ${encF.toFixed(0)} msg/s, decodeFrames ${decF.toFixed(0)} msg/s`,
  );
}
