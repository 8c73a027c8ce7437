module.exports = {
  displayName: 'compactor:integration',
  preset: '../../jest.preset.cjs',
  rootDir: '.',
  testMatch: ['<rootDir>/test/integration/**/*.int.test.ts'],
  testTimeout: 180_000,
};
