import nx from '@nx/eslint-plugin';

const pureBans = ['kafkajs', '@kafkajs/*', 'minio', 'apache-arrow', 'parquet-wasm', 'trino-client', 'fastify', '@fastify/*', 'pino', 'prom-client'];

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    ignores: ['**/dist', '**/node_modules', '**/coverage', '**/tmp', '**/.nx', 'apps/query-api/src/dashboard/vendor/**'],
  },
  {
    files: ['**/*.ts', '**/*.mts', '**/*.cts', '**/*.mjs', '**/*.cjs', '**/*.js'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          banTransitiveDependencies: false,
          // Tooling (env docs, Helm values, compose checks) reads the apps' config schemas, nothing else of an app;
          // end-to-end suites drive the collector with its load generator.
          allow: [...['producer', 'stream-processor', 'compactor', 'query-api'].map((app) => `@pipeline/${app}/config`), '@pipeline/producer/loadgen'],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:domain', 'type:adapter', 'type:util', 'type:testing'] },
            { sourceTag: 'type:adapter', onlyDependOnLibsWithTags: ['type:domain', 'type:util'] },
            {
              sourceTag: 'type:domain',
              onlyDependOnLibsWithTags: ['type:domain', 'type:util'],
              bannedExternalImports: pureBans,
            },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:domain', 'type:adapter', 'type:util'] },
            { sourceTag: 'type:tooling', onlyDependOnLibsWithTags: ['type:domain', 'type:adapter', 'type:util', 'type:testing'] },
            // End-to-end suites run the built apps as processes and reach them over HTTP: they import libs (and the load generator) only.
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:domain', 'type:adapter', 'type:util', 'type:testing'] },
          ],
        },
      ],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Command-line tools print progress for people; services log through pino.
    files: ['deploy/**', 'bench/**', 'tools/**', '**/src/cli/**', '**/*.cli.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    // Benchmarks drive and measure the apps' own parts (the load generator, configs, the compactor's column
    // mapping and test harness, the end-to-end fault scenarios), so they import app sources by path.
    files: ['bench/**'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
];
