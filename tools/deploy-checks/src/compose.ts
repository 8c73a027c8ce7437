import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { LOCAL_STACK } from '@pipeline/config';
import { APPS, CONTAINER_PORT, RUNTIME_ENV, envFields } from './env-model';
import { COMPOSE_DIR, REPO_ROOT, TRINO_RULES_FILE } from './paths';
import { catalogEnvNames, propertiesOf, trinoCatalogFiles } from './trino-catalogs';
import type { Tools } from './toolchain';

export interface ComposePort {
  target: number;
  published?: string;
  host_ip?: string;
}

export interface ComposeService {
  image?: string;
  environment?: Record<string, string | null>;
  ports?: ComposePort[];
  volumes?: { type: string; source?: string; target: string; read_only?: boolean }[];
  healthcheck?: { test?: string[] } | null;
  depends_on?: Record<string, { condition: string }>;
  profiles?: string[];
  read_only?: boolean;
  env_file?: { path: string; required: boolean }[];
}

export interface ComposeProject {
  name: string;
  services: Record<string, ComposeService>;
}

/**
 * Loads compose files like `docker compose config` (compose-go: interpolation, extends, the
 * compose-spec schema, consistency checks) and returns the resolved project, or the error text.
 */
export function composeConfig(tools: Tools, files: string[], opts: { envFile?: string; profiles?: string[] } = {}): { ok: true; project: ComposeProject } | { ok: false; error: string } {
  const args = files.flatMap((f) => ['-f', f]);
  if (opts.envFile) args.push('--env-file', opts.envFile);
  for (const p of opts.profiles ?? []) args.push('--profile', p);
  const res = spawnSync(tools.composeConfig, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (res.status !== 0) return { ok: false, error: `${res.stderr}${res.stdout}`.trim() };
  return { ok: true, project: JSON.parse(res.stdout) as ComposeProject };
}

/** Every `${NAME…}` a compose file interpolates. */
export function interpolatedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.replace(/\$\$/g, '').matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)) if (m[1]) names.add(m[1]);
  return names;
}

/** KEY=VALUE lines of an env file (comments and blanks skipped). */
export function envFileEntries(text: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m?.[1]) entries.set(m[1], m[2] ?? '');
  }
  return entries;
}

/** Versions the local stack installs (deploy/local/src/services/*.ts), read from its source. */
export function localStackVersions(): Record<'kafka' | 'registry' | 'objectStore' | 'trino', string> {
  const read = (file: string, constant: string) => {
    const text = readFileSync(join(REPO_ROOT, 'deploy', 'local', 'src', 'services', file), 'utf8');
    const m = new RegExp(`export const ${constant} = '([^']+)'`).exec(text);
    if (!m?.[1]) throw new Error(`${constant} not found in deploy/local/src/services/${file}`);
    return m[1];
  };
  return {
    kafka: read('kafka.ts', 'KAFKA_VERSION'),
    registry: read('registry.ts', 'APICURIO_VERSION'),
    objectStore: read('object-store.ts', 'VERSITYGW_VERSION'),
    trino: read('trino.ts', 'TRINO_VERSION'),
  };
}

/** `key=value` broker settings the local stack writes into server.properties (those without interpolation). */
export function localKafkaSettings(): Map<string, string> {
  const text = readFileSync(join(REPO_ROOT, 'deploy', 'local', 'src', 'services', 'kafka.ts'), 'utf8');
  const body = /function serverProperties\(\)[\s\S]*?\n}/.exec(text)?.[0] ?? '';
  const settings = new Map<string, string>();
  for (const m of body.matchAll(/^\s*'([a-z][a-z0-9.]*)=([^'$]*)',?\s*$/gm)) if (m[1]) settings.set(m[1], m[2] ?? '');
  return settings;
}

/** The access-control.properties the local stack writes for Trino (deploy/local/src/services/trino.ts). */
export function localTrinoAccessControl(): Map<string, string> {
  const text = readFileSync(join(REPO_ROOT, 'deploy', 'local', 'src', 'services', 'trino.ts'), 'utf8');
  const body = /function accessControlProperties\(\)[\s\S]*?\n}/.exec(text)?.[0] ?? '';
  const props = new Map<string, string>();
  for (const m of body.matchAll(/'([a-z][a-z0-9.-]*)=([^'$]*)'/g)) if (m[1]) props.set(m[1], m[2] ?? '');
  for (const m of body.matchAll(/`([a-z][a-z0-9.-]*)=\$\{/g)) if (m[1]) props.set(m[1], '(a path)');
  return props;
}

/** `-Dapicurio.…=value` settings the local stack passes the registry (those without interpolation). */
export function localRegistrySettings(): Map<string, string> {
  const text = readFileSync(join(REPO_ROOT, 'deploy', 'local', 'src', 'services', 'registry.ts'), 'utf8');
  const settings = new Map<string, string>();
  for (const m of text.matchAll(/'-D(apicurio\.[a-z0-9.-]+)=([^'$]*)'/g)) if (m[1]) settings.set(m[1], m[2] ?? '');
  return settings;
}

/** The Iceberg JDBC catalog tables the local stack creates, as normalised CREATE TABLE statements. */
export function createTables(sql: string): string[] {
  return [...sql.matchAll(/CREATE TABLE IF NOT EXISTS[\s\S]*?\);/g)].map((m) => m[0].replace(/\s+/g, ' ').trim());
}

/**
 * Cross-checks the resolved pipeline services against the apps' config schemas and the local
 * stack: env names, required endpoints, ports, health checks, image versions, Trino's catalog
 * file and environment, Kafka and registry settings. One line per problem.
 */
export function composeProblems(project: ComposeProject, opts: { fullStack: boolean }): string[] {
  const problems: string[] = [];
  const published = (svc: ComposeService | undefined, target: number) => svc?.ports?.find((p) => p.target === target)?.published;
  for (const app of APPS) {
    const svc = project.services[app.name];
    if (!svc) {
      problems.push(`${app.name}: no service`);
      continue;
    }
    const fields = envFields(app.schema);
    const declared = new Set(fields.map((f) => f.name));
    const env = svc.environment ?? {};
    for (const name of Object.keys(env)) {
      if (!declared.has(name) && !RUNTIME_ENV.has(name)) problems.push(`${app.name}: sets ${name}, which apps/${app.name}/src/config.ts does not declare`);
    }
    for (const field of fields) {
      if (field.pointsAtLocalStack && !env[field.name]) problems.push(`${app.name}: ${field.name} is not set, so it would point at the local stack (${field.defaultValue})`);
    }
    if (env['HTTP_PORT'] !== undefined && env['HTTP_PORT'] !== String(CONTAINER_PORT)) problems.push(`${app.name}: HTTP_PORT ${env['HTTP_PORT']} is not the image's ${CONTAINER_PORT}`);
    if (published(svc, CONTAINER_PORT) !== String(app.localPort)) {
      problems.push(`${app.name}: container port ${CONTAINER_PORT} is published on ${published(svc, CONTAINER_PORT) ?? 'nothing'}, the local stack uses ${app.localPort}`);
    }
    if (svc.read_only !== true) problems.push(`${app.name}: root file system is not read-only`);
    if (fields.some((f) => f.name === 'SPOOL_DIR')) {
      const dir = env['SPOOL_DIR'];
      if (!dir || !svc.volumes?.some((v) => v.type === 'volume' && v.target === dir)) problems.push(`${app.name}: SPOOL_DIR is not on a named volume`);
    }
  }
  if (!opts.fullStack) return problems;

  const versions = localStackVersions();
  const expectImage = (service: string, image: string) => {
    const actual = project.services[service]?.image;
    if (actual !== image) problems.push(`${service}: image ${actual ?? '(none)'}, the local stack runs ${image}`);
  };
  expectImage('kafka', `apache/kafka:${versions.kafka}`);
  expectImage('registry', `apicurio/apicurio-registry:${versions.registry}`);
  expectImage('object-store', `versity/versitygw:${versions.objectStore}`);
  expectImage('trino', `trinodb/trino:${versions.trino}`);

  const infraPorts: [string, number, number][] = [
    ['kafka', 19092, LOCAL_STACK.kafka.port],
    ['registry', 8080, LOCAL_STACK.registry.port],
    ['object-store', 7070, LOCAL_STACK.objectStore.port],
    ['postgres', 5432, LOCAL_STACK.postgres.port],
    ['trino', 8080, LOCAL_STACK.trino.port],
  ];
  for (const [service, target, local] of infraPorts) {
    const p = published(project.services[service], target);
    if (p !== String(local)) problems.push(`${service}: port ${target} is published on ${p ?? 'nothing'}, the local stack uses ${local}`);
  }
  for (const [name, svc] of Object.entries(project.services)) {
    const isJob = name.endsWith('-init');
    const hasHealthcheck = (svc.healthcheck?.test?.length ?? 0) > 0 || APPS.some((a) => a.name === name);
    if (!isJob && !svc.profiles?.length && !hasHealthcheck) problems.push(`${name}: no healthcheck`);
    for (const [dep, { condition }] of Object.entries(svc.depends_on ?? {})) {
      const target = project.services[dep];
      if (condition === 'service_healthy' && !(target?.healthcheck?.test?.length || APPS.some((a) => a.name === dep))) {
        problems.push(`${name}: waits for ${dep} to be healthy, but ${dep} has no healthcheck`);
      }
    }
  }

  const trino = project.services['trino'];
  for (const file of trinoCatalogFiles()) {
    const target = `/etc/trino/catalog/${basename(file)}`;
    const catalogMount = trino?.volumes?.find((v) => v.target === target);
    if (catalogMount?.source !== file) problems.push(`trino: ${target} is not the shared ${file}`);
  }
  if (existsSync(TRINO_RULES_FILE)) {
    const acFile = trino?.volumes?.find((v) => v.target === '/etc/trino/access-control.properties')?.source;
    const ac = acFile && existsSync(acFile) ? propertiesOf(readFileSync(acFile, 'utf8')) : new Map<string, string>();
    const rulesMount = trino?.volumes?.find((v) => v.target === ac.get('security.config-file'));
    if (rulesMount?.source !== TRINO_RULES_FILE) problems.push(`trino: the access rules ${ac.get('security.config-file') ?? '(no access-control.properties)'} are not the shared ${TRINO_RULES_FILE}`);
    for (const [key, value] of localTrinoAccessControl()) {
      if (key !== 'security.config-file' && ac.get(key) !== value) problems.push(`trino: access control ${key}=${ac.get(key) ?? '(unset)'}, the local stack sets ${value}`);
    }
  }
  const lakeEnv = Object.keys(trino?.environment ?? {}).filter((n) => n.startsWith('LAKE_')).sort();
  const wanted = catalogEnvNames();
  if (JSON.stringify(lakeEnv) !== JSON.stringify(wanted)) problems.push(`trino: sets ${lakeEnv.join(', ')}; the catalog files read ${wanted.join(', ')}`);

  const kafkaEnv = project.services['kafka']?.environment ?? {};
  for (const [key, value] of localKafkaSettings()) {
    if (/listener|quorum|log\.dirs|node\.id|process\.roles/.test(key)) continue;
    const envName = `KAFKA_${key.toUpperCase().replace(/[.-]/g, '_')}`;
    if (kafkaEnv[envName] !== value) problems.push(`kafka: ${envName}=${kafkaEnv[envName] ?? '(unset)'}, the local stack sets ${key}=${value}`);
  }
  const registryEnv = project.services['registry']?.environment ?? {};
  for (const [key, value] of localRegistrySettings()) {
    if (/datasource\.(url|username|password)/.test(key)) continue;
    const envName = key.toUpperCase().replace(/[.-]/g, '_');
    if (registryEnv[envName] !== value) problems.push(`registry: ${envName}=${registryEnv[envName] ?? '(unset)'}, the local stack sets ${key}=${value}`);
  }
  const initSql = readFileSync(join(COMPOSE_DIR, 'postgres', 'init.sql'), 'utf8');
  const localSql = readFileSync(join(REPO_ROOT, 'deploy', 'local', 'src', 'services', 'postgres.ts'), 'utf8');
  if (JSON.stringify(createTables(initSql)) !== JSON.stringify(createTables(localSql))) {
    problems.push('postgres/init.sql: the Iceberg catalog tables differ from deploy/local/src/services/postgres.ts');
  }
  for (const db of [LOCAL_STACK.postgres.registryDatabase]) {
    if (!new RegExp(`CREATE DATABASE ${db}\\b`).test(initSql)) problems.push(`postgres/init.sql: does not create the ${db} database`);
  }
  return problems;
}

/**
 * Secrets in a compose file's own text: every PASSWORD, SECRET or access-key variable must be a
 * required `${NAME:?…}` (or an empty `${NAME:-}`) interpolation, so the value lives in .env only.
 */
export function rawSecretProblems(text: string, file: string): string[] {
  const problems: string[] = [];
  text.split('\n').forEach((line, i) => {
    const m = /^\s+([A-Z][A-Z0-9_]*(?:PASSWORD|SECRET|ACCESS_KEY|SECRET_KEY)[A-Z0-9_]*):\s*(.*)$/.exec(line);
    if (!m) return;
    const value = (m[2] ?? '').trim();
    if (!/^"?\$\{[A-Z0-9_]+(?::\?[^}]*|:-)?\}"?$/.test(value)) problems.push(`${file}:${i + 1}: ${m[1]} must come from the env file as \${NAME:?...}, found ${value ? 'a literal value' : 'nothing'}`);
  });
  return problems;
}
