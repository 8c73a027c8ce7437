module.exports = {
  displayName: 'deploy-checks',
  preset: '../../jest.preset.cjs',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.test.ts'],
  // Installs helm, kubeconform, the Kubernetes schemas and the compose loader into the cache once,
  // with progress lines, before any test runs (a cold cache takes minutes, a warm one milliseconds).
  globalSetup: '<rootDir>/src/jest-global-setup.ts',
  // Rendering and validating shells out to Go tools; a cold Go build cache makes the first call slow.
  testTimeout: 120_000,
};
