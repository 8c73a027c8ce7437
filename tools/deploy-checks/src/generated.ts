import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { composeEnvFiles } from './compose-env';
import { renderDashboards } from './dashboards';
import { renderAppsJson, renderValuesSchema, renderValuesYaml } from './helm-values';
import { CHART_DIR, COMPOSE_DIR, GRAFANA_DIR, REPO_ROOT, TRINO_RULES_FILE } from './paths';
import { trinoCatalogFiles } from './trino-catalogs';

/** Directories whose every file is generated: a file there that the generator does not make is stale. */
export const GENERATED_DIRS = [
  join(GRAFANA_DIR, 'dashboards'),
  join(CHART_DIR, 'files', 'dashboards'),
  join(COMPOSE_DIR, 'env'),
  join(CHART_DIR, 'files', 'trino'),
];

/**
 * Every generated deployment file with the content the apps' config schemas, metric definitions
 * and shared files call for now, by absolute path. `npm run deploy:generate` writes them; the
 * drift test compares them with what is committed.
 */
export function generatedFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const valuesPath = join(CHART_DIR, 'values.yaml');
  files.set(valuesPath, renderValuesYaml(readFileSync(valuesPath, 'utf8')));
  files.set(join(CHART_DIR, 'values.schema.json'), renderValuesSchema());
  files.set(join(CHART_DIR, 'files', 'apps.json'), renderAppsJson());
  for (const file of trinoCatalogFiles()) files.set(join(CHART_DIR, 'files', 'trino', basename(file)), readFileSync(file, 'utf8'));
  if (existsSync(TRINO_RULES_FILE)) files.set(join(CHART_DIR, 'files', 'trino', 'access-control-rules.json'), readFileSync(TRINO_RULES_FILE, 'utf8'));
  const dashboards = renderDashboards();
  for (const [name, text] of dashboards.files) {
    files.set(join(GRAFANA_DIR, 'dashboards', name), text);
    files.set(join(CHART_DIR, 'files', 'dashboards', name), text);
  }
  files.set(join(GRAFANA_DIR, 'metrics.json'), dashboards.metricsJson);
  for (const [name, text] of composeEnvFiles()) files.set(join(COMPOSE_DIR, 'env', name), text);
  return files;
}

export interface Drift {
  file: string;
  problem: 'differs' | 'missing' | 'stale';
}

/** Generated files that differ from the committed ones, are missing, or should not exist. */
export function findDrift(files = generatedFiles()): Drift[] {
  const drift: Drift[] = [];
  for (const [path, text] of files) {
    let current: string | undefined;
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      current = undefined;
    }
    if (current === undefined) drift.push({ file: relative(REPO_ROOT, path), problem: 'missing' });
    else if (current !== text) drift.push({ file: relative(REPO_ROOT, path), problem: 'differs' });
  }
  for (const dir of GENERATED_DIRS) {
    let entries: string[] = [];
    try {
      entries = readdirSync(dir);
    } catch {
      entries = [];
    }
    for (const entry of entries) {
      if (!files.has(join(dir, entry))) drift.push({ file: relative(REPO_ROOT, join(dir, entry)), problem: 'stale' });
    }
  }
  return drift;
}
