import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Repository root (tools/deploy-checks/src -> ../../..). */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..');

/** The same cache as the local stack's (deploy/local/src/paths.ts): outside the repository, shared by clones. */
export const CACHE_DIR =
  process.env['PIPELINE_CACHE_DIR'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'event-pipeline');

/** Built or downloaded check tools (helm, kubeconform, compose-config, Kubernetes JSON schemas). */
export const TOOLS_DIR = join(CACHE_DIR, 'tools');

export const CHART_DIR = join(REPO_ROOT, 'deploy', 'helm', 'event-pipeline');
export const COMPOSE_DIR = join(REPO_ROOT, 'deploy', 'compose');
export const GRAFANA_DIR = join(REPO_ROOT, 'deploy', 'grafana');
export const DOCKER_DIR = join(REPO_ROOT, 'docker');
/** Trino's catalog files, shared by the local stack, compose and Helm: `lake` (the pipeline's) and `lake_readonly` (the query API's). */
export const TRINO_CATALOG_DIR = join(REPO_ROOT, 'deploy', 'trino', 'catalog');
export const TRINO_CATALOG_FILE = join(TRINO_CATALOG_DIR, 'lake.properties');
export const TRINO_RULES_FILE = join(REPO_ROOT, 'deploy', 'trino', 'access-control', 'rules.json');
export const GO_TOOLS_DIR = join(REPO_ROOT, 'tools', 'deploy-checks', 'go');

/** The command that regenerates every generated deployment file; drift tests print it. */
export const GENERATE_COMMAND = 'npm run deploy:generate';
