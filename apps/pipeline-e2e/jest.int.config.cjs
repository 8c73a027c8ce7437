const unit = require('./jest.config.cjs');

module.exports = {
  ...unit,
  displayName: 'pipeline-e2e:integration',
  testMatch: ['<rootDir>/test/integration/**/*.int.test.ts'],
  // Starting the four apps takes 10-30 s on a busy machine; a run then waits for the lake.
  testTimeout: 180_000,
};
