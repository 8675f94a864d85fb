/**
 * A pinned worker for test/unit/infra/pinnedWorker.test.ts (loaded from dist/). Ops: 0 answers
 * ints[0] + floats[0]; 1 throws; 2 blocks its thread for ints[0] ms; 3 exits the thread; 4
 * answers, after a timer, the last message it received; 5 adds floats[0] to every element of the
 * shared Float64Array it was sent.
 */
import { servePinned } from '../../../infra/pinnedWorker.js';

await servePinned((data) => {
  let last: unknown = null;
  let shared: Float64Array | null = null;
  const park = new Int32Array(new SharedArrayBuffer(4));
  return {
    message: (m) => {
      last = m;
      if (m instanceof SharedArrayBuffer) shared = new Float64Array(m);
    },
    run: (op, ints, floats) => {
      switch (op) {
        case 0:
          return { sum: ints[0] + floats[0], data };
        case 1:
          throw new RangeError(`boom ${ints[0]}`);
        case 2:
          Atomics.wait(park, 0, 0, ints[0]);
          return 'slept';
        case 3:
          process.exit(3);
          break;
        case 4:
          return new Promise((resolve) => setTimeout(() => resolve(last), 5));
        case 5:
          for (let i = 0; i < shared!.length; i++) shared![i] += floats[0];
          return undefined;
      }
      throw new Error(`op ${op}`);
    },
  };
});
