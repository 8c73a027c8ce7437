import { chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_STACK } from '@pipeline/config';
import { STATE_DIR, logFile, pidFile } from '../paths';
import { run, spawnDaemon, which } from '../proc';
import { StackError } from '../progress';
import type { Service } from '../service';

const { port, user, password, catalogDatabase, registryDatabase } = LOCAL_STACK.postgres;
const isRoot = process.getuid?.() === 0;

/** PostgreSQL refuses to run as root; as root the cluster belongs to the Debian `postgres` user. */
const dataRoot = isRoot ? '/var/lib/postgresql/event-pipeline' : join(STATE_DIR, 'postgres');
const dataDir = join(dataRoot, 'data');
const socketDir = join(dataRoot, 'run');

function binDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(base, versions[0], 'bin') : undefined;
}

function bin(name: string): string {
  const dir = binDir();
  if (!dir) throw new StackError('PostgreSQL is not installed (run `npm run stack -- install`)');
  return join(dir, name);
}

/** Runs a command as the cluster owner: `postgres` when we are root, ourselves otherwise. */
function asOwner(command: string, args: string[]): [string, string[]] {
  return isRoot ? ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', command, ...args]] : [command, args];
}

function psql(database: string, sql: string): string {
  const [cmd, args] = asOwner(bin('psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', socketDir, '-p', String(port), '-U', 'postgres', '-d', database, '-tAc', sql]);
  return run(cmd, args, { what: `psql ${sql.slice(0, 60)}` });
}

const ICEBERG_JDBC_CATALOG_DDL = (owner: string) => `
SET ROLE ${owner};
CREATE TABLE IF NOT EXISTS iceberg_tables (
  catalog_name VARCHAR(255) NOT NULL,
  table_namespace VARCHAR(255) NOT NULL,
  table_name VARCHAR(255) NOT NULL,
  metadata_location VARCHAR(1000),
  previous_metadata_location VARCHAR(1000),
  iceberg_type VARCHAR(5),
  PRIMARY KEY (catalog_name, table_namespace, table_name)
);
CREATE TABLE IF NOT EXISTS iceberg_namespace_properties (
  catalog_name VARCHAR(255) NOT NULL,
  namespace VARCHAR(255) NOT NULL,
  property_key VARCHAR(255) NOT NULL,
  property_value VARCHAR(1000),
  PRIMARY KEY (catalog_name, namespace, property_key)
);`;

export const postgres: Service = {
  name: 'postgres',
  get version() {
    const dir = binDir();
    return dir ? `PostgreSQL ${dir.split('/').at(-2)} (Debian)` : 'PostgreSQL (Debian, not installed)';
  },
  ports: [port],
  marker: dataDir,
  stopSignal: 'SIGINT',
  stopTimeoutMs: 30_000,
  readyTimeoutMs: 60_000,

  isInstalled: () => binDir() !== undefined,

  async install() {
    if (binDir()) return;
    if (!isRoot) throw new StackError('PostgreSQL is missing: install the Debian package `postgresql` (sudo apt-get install postgresql)');
    if (!which('apt-get')) throw new StackError('PostgreSQL is missing and apt-get is not available');
    run('apt-get', ['update', '-q'], { what: 'apt-get update' });
    run('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'postgresql'], {
      what: 'apt-get install postgresql',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  },

  async start() {
    mkdirSync(dataRoot, { recursive: true });
    mkdirSync(socketDir, { recursive: true });
    if (isRoot) {
      const ids = run('id', ['-u', 'postgres'], { what: 'id postgres' }).trim();
      const gid = run('id', ['-g', 'postgres'], { what: 'id postgres' }).trim();
      chownSync(dataRoot, Number(ids), Number(gid));
      chownSync(socketDir, Number(ids), Number(gid));
    }
    if (!existsSync(join(dataDir, 'PG_VERSION'))) {
      const [cmd, args] = asOwner(bin('initdb'), ['-D', dataDir, '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--auth-local=trust', '--auth-host=scram-sha-256']);
      run(cmd, args, { what: 'initdb' });
    }
    const [cmd, args] = asOwner(bin('postgres'), [
      '-D', dataDir,
      '-p', String(port),
      '-k', socketDir,
      '-c', "listen_addresses=127.0.0.1",
      '-c', 'shared_buffers=256MB',
      '-c', 'max_connections=200',
    ]);
    return spawnDaemon({ command: cmd, args, cwd: dataRoot, logFile: logFile('postgres'), pidFile: pidFile('postgres') });
  },

  async ready() {
    const res = run(bin('pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-q'], { what: 'pg_isready' });
    return res !== undefined;
  },

  async afterReady() {
    const quoted = password.replace(/'/g, "''");
    const exists = psql('postgres', `SELECT 1 FROM pg_roles WHERE rolname = '${user}'`).trim() === '1';
    psql('postgres', exists ? `ALTER ROLE ${user} WITH LOGIN PASSWORD '${quoted}'` : `CREATE ROLE ${user} WITH LOGIN PASSWORD '${quoted}'`);
    for (const db of [catalogDatabase, registryDatabase]) {
      if (psql('postgres', `SELECT 1 FROM pg_database WHERE datname = '${db}'`).trim() !== '1') {
        psql('postgres', `CREATE DATABASE ${db} OWNER ${user}`);
      }
    }
    // Trino's Iceberg JDBC catalog expects its two tables to exist (the V1 layout, which also holds views).
    psql(catalogDatabase, ICEBERG_JDBC_CATALOG_DDL(user));
  },
};
