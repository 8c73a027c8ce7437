module.exports = {
  displayName: 'query-api',
  preset: '../../jest.preset.cjs',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.test.ts'],
};
