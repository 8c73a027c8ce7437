module.exports = {
  displayName: 'schemas',
  preset: '../../jest.preset.cjs',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.test.ts'],
};
