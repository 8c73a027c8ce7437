module.exports = {
  displayName: 'stream-processor:integration',
  preset: '../../jest.preset.cjs',
  rootDir: '.',
  testMatch: ['<rootDir>/test/integration/**/*.int.test.ts'],
  testTimeout: 180_000,
};
