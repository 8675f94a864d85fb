import { defineConfig } from 'vitest/config';

// Unit tests run in parallel threads; integration tests spawn real processes and sockets,
// so the whole suite is sized for a 2-core machine (see README "Tests").
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', './test/reporters/summaryLine.ts'],
  },
});
