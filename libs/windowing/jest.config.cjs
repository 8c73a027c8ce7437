module.exports = {
  displayName: 'windowing',
  preset: '../../jest.preset.cjs',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.test.ts'],
};
