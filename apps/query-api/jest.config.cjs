module.exports = {
  displayName: 'query-api',
  preset: '../../jest.preset.cjs',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.test.ts'],
  // The first statement parsed with Trino's grammar builds ANTLR's caches (a second or two, longer
  // on a busy machine): tests that load the saved queries pay it.
  testTimeout: 20_000,
  // dt-sql-parser ships ES modules with extensionless imports: swc turns them into CommonJS here,
  // esbuild bundles them into the build.
  transformIgnorePatterns: ['/node_modules/(?!(cookie|dt-sql-parser)/)'],
};
