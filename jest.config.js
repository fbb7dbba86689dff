// Jest runs TypeScript through ts-jest; type errors are caught by `tsc` in the test script, so ts-jest only transpiles.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { isolatedModules: true }],
  },
  testTimeout: 30_000,
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
};
