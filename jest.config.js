/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }] },
  setupFiles: ['<rootDir>/test/quiet-node-version-warning.js'],
  reporters: ['default', '<rootDir>/test/skip-reporter.js'],
  testTimeout: 120000,
  maxWorkers: 2,
};
