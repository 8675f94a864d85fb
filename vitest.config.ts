import { defineConfig } from 'vitest/config';

// Unit tests run in parallel threads; integration tests spawn real processes and sockets,
// so the whole suite is sized for a 2-core machine (see README "Tests").
// `npm run coverage` measures the unit tests only (test/unit): see scripts/coverage-by-folder.mjs.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', './test/reporters/summaryLine.ts'],
    coverage: {
      provider: 'v8',
      include: [
        'infra/**/*.ts',
        'envs/**/*.ts',
        'protocol/**/*.ts',
        'model/**/*.ts',
        'actor/**/*.ts',
        'learner/**/*.ts',
        'analysis/**/*.ts',
        'deploy/**/*.ts',
      ],
      exclude: ['**/*.d.ts'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'coverage',
    },
  },
});
