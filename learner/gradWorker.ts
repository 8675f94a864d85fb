/**
 * One learner gradient shard in a pinned worker thread (learner/threads.ts, infra/pinnedWorker.ts):
 * the same `Shard` computation the main thread runs for shard 0, driven through shared memory.
 * New shared buffers arrive as messages before the request that first uses them; an error
 * fails its request (the main thread rethrows it), never the thread.
 */
import { servePinned } from '../infra/pinnedWorker.js';
import { Shard, type ShardInit, type ShardMessage, type ShardOp } from './threads.js';

await servePinned((data) => {
  const init = data as ShardInit;
  const shard = new Shard(init.shard, init.spec, init.cfg, init);
  return {
    message: (m) => shard.message(m as ShardMessage),
    run: (op, ints, floats) => shard.run(op as ShardOp, ints[0], ints[1], floats[0], floats),
  };
});
