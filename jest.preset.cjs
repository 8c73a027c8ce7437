// Shared jest settings: TypeScript through swc (type checks run in the build target),
// tsconfig path aliases through Nx's resolver.
const nxPreset = require('@nx/jest/preset').default;

const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' }, sourceMaps: 'inline' }];

// ESM-only packages that CommonJS dependencies require() (Node does this natively, jest's module system does not).
const esmOnly = ['cookie'];

module.exports = {
  ...nxPreset,
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': swc,
    '^.+\\.m?js$': swc,
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
};
