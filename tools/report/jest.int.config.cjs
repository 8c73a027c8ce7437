const unit = require('./jest.config.cjs');

module.exports = {
  ...unit,
  displayName: 'report:integration',
  testMatch: ['<rootDir>/test/integration/**/*.int.test.ts'],
  // The first launch may install Debian's chromium (ensureChromium).
  testTimeout: 360_000,
};
