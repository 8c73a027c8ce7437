const unit = require('./jest.config.cjs');

module.exports = {
  ...unit,
  displayName: 'query-api:integration',
  testMatch: ['<rootDir>/test/integration/**/*.int.test.ts'],
  testTimeout: 120_000,
};
