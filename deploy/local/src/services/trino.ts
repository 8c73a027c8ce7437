import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_STACK, LOCAL_URLS } from '@pipeline/config';
import { CACHE_DIR, REPO_ROOT, STATE_DIR, logFile, pidFile } from '../paths';
import { run, spawnDaemon } from '../proc';
import { findJava, mavenFetch } from '../toolchain';
import type { Service } from '../service';

export const TRINO_VERSION = '476';
const home = join(CACHE_DIR, `trino-server-${TRINO_VERSION}`);
const stateDir = join(STATE_DIR, 'trino');
const etcDir = join(stateDir, 'etc');
const { port, catalog, readOnlyCatalog } = LOCAL_STACK.trino;
const pg = LOCAL_STACK.postgres;
const s3 = LOCAL_STACK.objectStore;
/** Plugins loaded at start; the others cost start time and memory and are left out. */
const PLUGINS = ['iceberg', 'tpch'];

/**
 * File-based access control: the query API's read-only user may only SELECT from `lake_readonly`
 * (the read-only catalog); every other user (pipeline, tests) keeps full access. The rules are read
 * from the repository in place and re-read every few seconds, so editing
 * deploy/trino/access-control/rules.json needs no restart.
 */
function accessControlProperties(): string {
  return [
    'access-control.name=file',
    `security.config-file=${join(REPO_ROOT, 'deploy/trino/access-control/rules.json')}`,
    'security.refresh-period=5s',
    '',
  ].join('\n');
}

/** JVM flags from Trino's recommended jvm.config, sized for a 2-core, 24 GiB machine shared with the whole stack. */
const JVM = [
  '-server',
  '-Xms1g',
  '-Xmx4g',
  '-XX:G1HeapRegionSize=32M',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-XX:+ExitOnOutOfMemoryError',
  '-XX:-OmitStackTraceInFastThrow',
  '-XX:ReservedCodeCacheSize=256M',
  '-XX:PerMethodRecompilationCutoff=10000',
  '-XX:PerBytecodeRecompilationCutoff=10000',
  '-Djdk.attach.allowAttachSelf=true',
  '-Djdk.nio.maxCachedBufferSize=2000000',
  '-Dfile.encoding=UTF-8',
  '-XX:+EnableDynamicAgentLoading',
  '-XX:ActiveProcessorCount=2',
];

function configProperties(): string {
  return [
    'coordinator=true',
    'node-scheduler.include-coordinator=true',
    `http-server.http.port=${port}`,
    `discovery.uri=http://${LOCAL_STACK.host}:${port}`,
    'query.max-memory=2GB',
    'query.max-memory-per-node=1536MB',
    'memory.heap-headroom-per-node=1GB',
    'task.concurrency=2',
    'query.min-expire-age=5m',
    `plugin.dir=${join(home, 'plugin')}`,
    `catalog.config-dir=${join(etcDir, 'catalog')}`,
    `access-control.config-files=${join(etcDir, 'access-control.properties')}`,
    '',
  ].join('\n');
}

export const trino: Service = {
  name: 'trino',
  version: `Trino ${TRINO_VERSION} (Iceberg connector, JDBC catalog, native S3)`,
  ports: [port],
  marker: stateDir,
  stopSignal: 'SIGTERM',
  stopTimeoutMs: 30_000,
  readyTimeoutMs: 180_000,

  isInstalled: () => existsSync(join(home, '.installed')),

  async install() {
    const tarball = mavenFetch(`io.trino:trino-server:${TRINO_VERSION}:tar.gz`);
    rmSync(home, { recursive: true, force: true });
    mkdirSync(home, { recursive: true });
    // The tarball hard-links jars shared between plugins, so unpack it whole, then drop unused plugins.
    run('tar', ['-xzf', tarball, '-C', home, '--strip-components=1'], { what: 'unpacking Trino' });
    for (const plugin of readdirSync(join(home, 'plugin'))) {
      if (!PLUGINS.includes(plugin)) rmSync(join(home, 'plugin', plugin), { recursive: true, force: true });
    }
    writeFileSync(join(home, '.installed'), `${TRINO_VERSION}\n`);
  },

  async start() {
    mkdirSync(join(etcDir, 'catalog'), { recursive: true });
    mkdirSync(join(stateDir, 'data'), { recursive: true });
    writeFileSync(join(etcDir, 'config.properties'), configProperties());
    writeFileSync(join(etcDir, 'log.properties'), 'io.trino=INFO\nio.airlift=WARN\n');
    writeFileSync(join(etcDir, 'access-control.properties'), accessControlProperties());
    // Catalog files are read only at start: a changed or added one needs a Trino restart.
    copyFileSync(join(REPO_ROOT, 'deploy/trino/catalog/lake.properties'), join(etcDir, 'catalog', `${catalog}.properties`));
    copyFileSync(join(REPO_ROOT, 'deploy/trino/catalog/lake_readonly.properties'), join(etcDir, 'catalog', `${readOnlyCatalog}.properties`));
    writeFileSync(join(etcDir, 'catalog', 'tpch.properties'), 'connector.name=tpch\n');
    const java = findJava(24);
    return spawnDaemon({
      command: java,
      args: [
        ...JVM,
        `-Dnode.environment=local`,
        `-Dnode.id=local-1`,
        `-Dnode.data-dir=${join(stateDir, 'data')}`,
        `-Dconfig=${join(etcDir, 'config.properties')}`,
        `-Dlog.levels-file=${join(etcDir, 'log.properties')}`,
        '-cp', `${join(home, 'lib')}/*`,
        'io.trino.server.TrinoServer',
      ],
      env: {
        LAKE_CATALOG_JDBC_URL: `jdbc:postgresql://${LOCAL_STACK.host}:${pg.port}/${pg.catalogDatabase}`,
        LAKE_CATALOG_JDBC_USER: pg.user,
        LAKE_CATALOG_JDBC_PASSWORD: pg.password,
        LAKE_WAREHOUSE: `s3://${s3.bucket}/warehouse`,
        LAKE_S3_ENDPOINT: LOCAL_URLS.objectStore,
        LAKE_S3_REGION: s3.region,
        LAKE_S3_ACCESS_KEY: s3.accessKey,
        LAKE_S3_SECRET_KEY: s3.secretKey,
      },
      cwd: stateDir,
      logFile: logFile('trino'),
      pidFile: pidFile('trino'),
    });
  },

  async ready() {
    const res = await fetch(`${LOCAL_URLS.trino}/v1/info`, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) return false;
    const info = (await res.json()) as { starting?: boolean };
    return info.starting === false;
  },
};
