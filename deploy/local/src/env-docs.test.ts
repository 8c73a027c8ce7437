import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { APP_SCHEMAS, readmeWithEnvTable, renderEnvTable } from './env-docs';
import { REPO_ROOT } from './paths';

describe('README environment table', () => {
  it('matches the apps\' config schemas (run `npm run docs:env` after changing a config.ts)', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    expect(readmeWithEnvTable(readme)).toBe(readme);
  });

  it('lists every variable of every app with a description', () => {
    const table = renderEnvTable();
    for (const schema of Object.values(APP_SCHEMAS)) {
      for (const [name, field] of Object.entries(schema.shape)) {
        expect(table).toContain(`\`${name}\``);
        expect((field as { description?: string }).description).toBeTruthy();
      }
    }
  });

  it('never prints a secret default', () => {
    expect(renderEnvTable()).not.toContain('pipeline-dev-secret');
  });
});
