module.exports = {
  displayName: 'stream-processor',
  preset: '../../jest.preset.cjs',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.test.ts'],
};
