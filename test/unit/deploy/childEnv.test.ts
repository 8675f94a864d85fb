/** childEnv: the glibc malloc setting train gives its learner and actors, unless the user has one. */
import { describe, expect, it } from 'vitest';
import { childEnv, MALLOC_TUNING } from '../../../deploy/launcher.js';

describe('childEnv', () => {
  it('adds MALLOC_MMAP_THRESHOLD_ on Linux, keeping the rest of the environment', () => {
    expect(MALLOC_TUNING).toEqual({ MALLOC_MMAP_THRESHOLD_: '32768' });
    expect(childEnv({ PATH: '/bin', HOME: '/h' }, 'linux')).toEqual({ PATH: '/bin', HOME: '/h', MALLOC_MMAP_THRESHOLD_: '32768' });
  });

  it("leaves the user's own malloc tuning exactly as it is", () => {
    for (const env of [
      { MALLOC_MMAP_THRESHOLD_: '131072' },
      { MALLOC_ARENA_MAX: '2' },
      { MALLOC_TRIM_THRESHOLD_: '0' },
      { GLIBC_TUNABLES: 'glibc.malloc.tcache_count=7' },
      { GLIBC_TUNABLES: 'glibc.rtld.nns=4:glibc.malloc.mmap_threshold=65536' },
    ])
      expect(childEnv({ PATH: '/bin', ...env }, 'linux')).toEqual({ PATH: '/bin', ...env });
    // A tunable that is not malloc's does not count.
    expect(childEnv({ GLIBC_TUNABLES: 'glibc.rtld.nns=4' }, 'linux').MALLOC_MMAP_THRESHOLD_).toBe('32768');
  });

  it('adds nothing off Linux (no glibc)', () => {
    expect(childEnv({ PATH: '/bin' }, 'darwin')).toEqual({ PATH: '/bin' });
  });
});
