import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_STACK } from '@pipeline/config';
import { CACHE_DIR, STATE_DIR, logFile, pidFile } from '../paths';
import { run, spawnDaemon } from '../proc';
import { findJava, mavenFetch } from '../toolchain';
import type { Service } from '../service';

export const APICURIO_VERSION = '3.3.3';
const home = join(CACHE_DIR, `apicurio-registry-${APICURIO_VERSION}`);
const stateDir = join(STATE_DIR, 'registry');
const { port, managementPort, ccompatPath } = LOCAL_STACK.registry;
const pg = LOCAL_STACK.postgres;

export const registry: Service = {
  name: 'registry',
  version: `Apicurio Registry ${APICURIO_VERSION} (Confluent-compatible API at ${ccompatPath}, SQL storage in PostgreSQL)`,
  ports: [port, managementPort],
  marker: stateDir,
  stopSignal: 'SIGTERM',
  stopTimeoutMs: 30_000,
  readyTimeoutMs: 120_000,

  isInstalled: () => existsSync(join(home, '.installed')),

  async install() {
    const tarball = mavenFetch(`io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`);
    rmSync(home, { recursive: true, force: true });
    mkdirSync(home, { recursive: true });
    run('tar', ['-xzf', tarball, '-C', home], { what: 'unpacking Apicurio Registry' });
    if (!existsSync(join(home, 'quarkus-run.jar'))) throw new Error(`quarkus-run.jar missing in ${home}`);
    writeFileSync(join(home, '.installed'), `${APICURIO_VERSION}\n`);
  },

  async start() {
    mkdirSync(stateDir, { recursive: true });
    // Apicurio 3 is built for Java 21.
    const java = findJava(21);
    return spawnDaemon({
      command: java,
      args: [
        '-Xms128m', '-Xmx512m', '-XX:+UseSerialGC',
        `-Dpipeline.state=${stateDir}`,
        `-Dquarkus.http.host=${LOCAL_STACK.host}`,
        `-Dquarkus.http.port=${port}`,
        `-Dquarkus.management.host=${LOCAL_STACK.host}`,
        `-Dquarkus.management.port=${managementPort}`,
        // Schemas survive restarts: SQL storage in the stack's PostgreSQL.
        '-Dapicurio.storage.kind=sql',
        '-Dapicurio.storage.sql.kind=postgresql',
        `-Dapicurio.datasource.url=jdbc:postgresql://${LOCAL_STACK.host}:${pg.port}/${pg.registryDatabase}`,
        `-Dapicurio.datasource.username=${pg.user}`,
        `-Dapicurio.datasource.password=${pg.password}`,
        '-Dapicurio.rest.deletion.artifact.enabled=true',
        '-Dapicurio.rest.deletion.artifact-version.enabled=true',
        '-Dapicurio.rest.deletion.group.enabled=true',
        '-Dquarkus.log.level=WARN',
        '-Dquarkus.log.category."io.apicurio".level=INFO',
        '-jar', join(home, 'quarkus-run.jar'),
      ],
      cwd: stateDir,
      logFile: logFile('registry'),
      pidFile: pidFile('registry'),
    });
  },

  async ready() {
    const res = await fetch(`http://${LOCAL_STACK.host}:${port}${ccompatPath}/subjects`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  },
};
