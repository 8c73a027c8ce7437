module.exports = {
  displayName: 'lake:integration',
  preset: '../../jest.preset.cjs',
  rootDir: '.',
  testMatch: ['<rootDir>/test/integration/**/*.int.test.ts'],
  testTimeout: 120_000,
};
