module.exports = {
  displayName: 'producer:integration',
  preset: '../../jest.preset.cjs',
  rootDir: '.',
  testMatch: ['<rootDir>/test/integration/**/*.int.test.ts'],
  testTimeout: 120_000,
};
