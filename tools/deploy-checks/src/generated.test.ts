import { APPS, MANAGED_ENV, SHARED_ENV, envFields, envSource } from './env-model';
import { findDrift, generatedFiles } from './generated';
import { renderConfigBlock, renderValuesYaml } from './helm-values';
import { GENERATE_COMMAND } from './paths';

describe('generated deployment files', () => {
  it('match the apps config schemas, metric definitions and shared files', () => {
    const drift = findDrift();
    const message = drift.length
      ? `generated deployment files are out of date; run \`${GENERATE_COMMAND}\` and commit the result:\n${drift.map((d) => `  ${d.problem}: ${d.file}`).join('\n')}`
      : '';
    expect(message).toBe('');
  });

  it.each(APPS.map((a) => [a.name, a] as const))('document every setting of %s in values.yaml or say where it comes from', (_name, app) => {
    const block = renderConfigBlock(app, '    ').join('\n');
    for (const field of envFields(app.schema)) {
      if (envSource(field) === 'config') expect(block).toContain(`      ${field.name}: `);
      else expect(block).toContain(field.name);
      expect(field.description.length).toBeGreaterThan(0);
    }
  });

  it('never puts shared, chart-managed or secret settings into an app block', () => {
    for (const app of APPS) {
      const keys = renderConfigBlock(app, '').filter((l) => /^ {2}[A-Z]/.test(l)).map((l) => l.trim().split(':')[0]);
      for (const key of keys) {
        expect([key, SHARED_ENV[key ?? ''] ?? MANAGED_ENV[key ?? ''] ?? null]).toEqual([key, null]);
        expect(key).not.toMatch(/PASSWORD|SECRET/);
      }
    }
  });

  it('refuses a values.yaml whose generated block lost its end marker (regression: a bad merge)', () => {
    const broken = '    # >>> generated from apps/producer/src/config.ts by x\n    config: {}\n';
    expect(() => renderValuesYaml(broken)).toThrow(/no end marker/);
  });

  it('produces the same files twice (deterministic, so the drift test is stable)', () => {
    expect([...generatedFiles()]).toEqual([...generatedFiles()]);
  });
});
