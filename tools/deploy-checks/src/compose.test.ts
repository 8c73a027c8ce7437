import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeConfig, composeProblems, envFileEntries, interpolatedNames, rawSecretProblems, type ComposeProject } from './compose';
import { APPS, RUNTIME_ENV, envFields } from './env-model';
import { COMPOSE_DIR } from './paths';
import { ensureTools } from './toolchain';

const tools = ensureTools();
const FULL = join(COMPOSE_DIR, 'docker-compose.yml');
const EXTERNAL = join(COMPOSE_DIR, 'docker-compose.external.yml');
const COMMON = join(COMPOSE_DIR, 'common.yml');

/** The value, or a test failure naming what was missing. */
function must<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`missing ${what}`);
  return value;
}

function load(file: string, envFile: string, profiles: string[] = []): ComposeProject {
  const res = composeConfig(tools, [file], { envFile, profiles });
  if (!res.ok) throw new Error(res.error);
  return res.project;
}

/** A copy of deploy/compose (and what it mounts) to break, so the real files stay untouched. */
function withCopy<T>(edit: (dir: string) => void, run: (dir: string) => T): T {
  const root = mkdtempSync(join(tmpdir(), 'compose-'));
  try {
    const dir = join(root, 'deploy', 'compose');
    cpSync(COMPOSE_DIR, dir, { recursive: true });
    cpSync(join(COMPOSE_DIR, '..', 'trino'), join(root, 'deploy', 'trino'), { recursive: true });
    cpSync(join(COMPOSE_DIR, '..', 'grafana'), join(root, 'deploy', 'grafana'), { recursive: true });
    edit(dir);
    return run(dir);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe('compose files', () => {
  it('load the whole pipeline with every profile, like `docker compose config`', () => {
    const project = load(FULL, join(COMPOSE_DIR, '.env.example'), ['*']);
    expect(Object.keys(project.services).sort()).toEqual(
      ['compactor', 'grafana', 'kafka', 'lake-init', 'object-store', 'postgres', 'producer', 'prometheus', 'query-api', 'registry', 'stream-processor', 'superset', 'trino'].sort(),
    );
  });

  it('start only the pipeline without profiles', () => {
    const project = load(FULL, join(COMPOSE_DIR, '.env.example'));
    expect(Object.keys(project.services)).not.toEqual(expect.arrayContaining(['grafana']));
    expect(Object.keys(project.services)).toEqual(expect.arrayContaining(APPS.map((a) => a.name)));
  });

  it('agree with the apps config schemas and the local stack', () => {
    expect(composeProblems(load(FULL, join(COMPOSE_DIR, '.env.example'), ['*']), { fullStack: true })).toEqual([]);
  });

  it('load the external variant, which runs only the four apps', () => {
    const project = load(EXTERNAL, join(COMPOSE_DIR, '.env.external.example'));
    expect(Object.keys(project.services).sort()).toEqual(APPS.map((a) => a.name).sort());
    expect(composeProblems(project, { fullStack: false })).toEqual([]);
  });

  it('interpolate only variables that .env.example documents', () => {
    const documented = envFileEntries(readFileSync(join(COMPOSE_DIR, '.env.example'), 'utf8'));
    const used = new Set([...interpolatedNames(readFileSync(FULL, 'utf8')), ...interpolatedNames(readFileSync(COMMON, 'utf8'))]);
    expect([...used].filter((n) => !documented.has(n))).toEqual([]);
  });

  it('document in .env.external.example every variable the external variant needs, and only app settings besides', () => {
    const text = readFileSync(join(COMPOSE_DIR, '.env.external.example'), 'utf8');
    const documented = new Set([...envFileEntries(text).keys(), ...[...text.matchAll(/^# ([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1] ?? '')]);
    const used = new Set([...interpolatedNames(readFileSync(EXTERNAL, 'utf8')), ...interpolatedNames(readFileSync(COMMON, 'utf8'))]);
    expect([...used].filter((n) => !documented.has(n))).toEqual([]);
    const settings = new Set(APPS.flatMap((a) => envFields(a.schema).map((f) => f.name)));
    expect([...documented].filter((n) => !settings.has(n) && !used.has(n) && !RUNTIME_ENV.has(n))).toEqual([]);
  });

  it('keep secrets out of the compose files', () => {
    for (const file of [FULL, EXTERNAL, COMMON]) expect(rawSecretProblems(readFileSync(file, 'utf8'), file)).toEqual([]);
  });

  it('list only real settings in the env/<app>.env.example files', () => {
    for (const file of readdirSync(join(COMPOSE_DIR, 'env'))) {
      const app = APPS.find((a) => file === `${a.name}.env.example`);
      const declared = new Set(envFields(must(app, `an app for ${file}`).schema).map((f) => f.name));
      const listed = [...readFileSync(join(COMPOSE_DIR, 'env', file), 'utf8').matchAll(/^# ([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1] ?? '');
      expect(listed.filter((n) => !declared.has(n))).toEqual([]);
    }
  });
});

describe('compose checks fail on real mistakes', () => {
  it('an unknown service key fails the compose-spec schema', () => {
    const res = withCopy(
      (dir) => writeFileSync(join(dir, 'docker-compose.yml'), readFileSync(join(dir, 'docker-compose.yml'), 'utf8').replace('  trino:\n    image:', '  trino:\n    imagee: x\n    image:')),
      (dir) => composeConfig(tools, [join(dir, 'docker-compose.yml')], { envFile: join(dir, '.env.example') }),
    );
    expect(res.ok).toBe(false);
    expect(res.ok ? '' : res.error).toMatch(/imagee/);
  });

  it('a dependency on a service that does not exist fails', () => {
    const res = withCopy(
      (dir) => writeFileSync(join(dir, 'docker-compose.yml'), readFileSync(join(dir, 'docker-compose.yml'), 'utf8').replace('      postgres:\n        condition: service_healthy\n      lake-init:', '      postgress:\n        condition: service_healthy\n      lake-init:')),
      (dir) => composeConfig(tools, [join(dir, 'docker-compose.yml')], { envFile: join(dir, '.env.example') }),
    );
    expect(res.ok ? '' : res.error).toMatch(/postgress/);
  });

  it('a secret missing from the env file fails with its name', () => {
    const res = withCopy(
      (dir) => writeFileSync(join(dir, '.env.example'), readFileSync(join(dir, '.env.example'), 'utf8').replace(/^POSTGRES_PASSWORD=.*$/m, '')),
      (dir) => composeConfig(tools, [join(dir, 'docker-compose.yml')], { envFile: join(dir, '.env.example') }),
    );
    expect(res.ok ? '' : res.error).toMatch(/POSTGRES_PASSWORD/);
  });

  it('the cross-checks catch a misspelt env name, a wrong host port, a drifted image version and a literal secret', () => {
    const project = load(FULL, join(COMPOSE_DIR, '.env.example'), ['*']);
    const producer = must(project.services['producer'], 'producer');
    producer.environment = { ...producer.environment, KAFKA_BROKER: 'kafka:9092' };
    delete producer.environment['KAFKA_BROKERS'];
    producer.ports = [{ target: 8080, published: '8200' }];
    must(project.services['trino'], 'trino').image = 'trinodb/trino:475';
    const problems = composeProblems(project, { fullStack: true }).join('\n');
    expect(problems).toMatch(/producer: sets KAFKA_BROKER, which apps\/producer\/src\/config.ts does not declare/);
    expect(problems).toMatch(/producer: KAFKA_BROKERS is not set, so it would point at the local stack/);
    expect(problems).toMatch(/producer: container port 8080 is published on 8200, the local stack uses 8100/);
    expect(problems).toMatch(/trino: image trinodb\/trino:475, the local stack runs trinodb\/trino:476/);
    expect(rawSecretProblems('    environment:\n      S3_SECRET_KEY: hunter2\n', 'x.yml')).toHaveLength(1);
  });

  it('the cross-checks catch a Trino that does not mount the shared catalog files and access rules', () => {
    const project = load(FULL, join(COMPOSE_DIR, '.env.example'));
    const trino = must(project.services['trino'], 'trino');
    trino.volumes = [];
    delete must(trino.environment, 'trino environment')['LAKE_WAREHOUSE'];
    const problems = composeProblems(project, { fullStack: true }).join('\n');
    expect(problems).toMatch(/trino: \/etc\/trino\/catalog\/lake.properties is not the shared/);
    expect(problems).toMatch(/trino: \/etc\/trino\/catalog\/lake_readonly.properties is not the shared/);
    expect(problems).toMatch(/the catalog files read .*LAKE_WAREHOUSE/);
    expect(problems).toMatch(/trino: the access rules .* are not the shared/);
  });
});
