import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'minio';
import { LOCAL_STACK } from '@pipeline/config';
import { CACHE_DIR, STATE_DIR, logFile, pidFile } from '../paths';
import { run, spawnDaemon } from '../proc';
import { StackError } from '../progress';
import { goVersion } from '../toolchain';
import type { Service } from '../service';

export const VERSITYGW_VERSION = 'v1.8.0';
const home = join(CACHE_DIR, `versitygw-${VERSITYGW_VERSION}`);
const binary = join(home, 'bin', 'versitygw');
const stateDir = join(STATE_DIR, 'object-store');
const dataDir = join(stateDir, 'data');
const sidecarDir = join(stateDir, 'meta');
const { port, accessKey, secretKey, region, bucket } = LOCAL_STACK.objectStore;

/** The POSIX backend keeps object metadata in extended attributes; fall back to its sidecar mode without them. */
function supportsXattr(dir: string): boolean {
  const probe = join(dir, '.xattr-probe');
  writeFileSync(probe, '');
  const res = spawnSync('python3', ['-c', `import os; os.setxattr(${JSON.stringify(probe)}, 'user.probe', b'1')`]);
  return res.status === 0;
}

export function s3Client(): Client {
  return new Client({ endPoint: LOCAL_STACK.host, port, useSSL: false, accessKey, secretKey, region, pathStyle: true });
}

export const objectStore: Service = {
  name: 'object-store',
  version: `Versity S3 Gateway ${VERSITYGW_VERSION} (POSIX backend)`,
  ports: [port],
  marker: stateDir,
  stopSignal: 'SIGTERM',
  stopTimeoutMs: 15_000,
  readyTimeoutMs: 30_000,

  isInstalled: () => existsSync(binary),

  async install() {
    const [major, minor] = goVersion();
    if (major < 1 || (major === 1 && minor < 25)) throw new StackError(`versitygw ${VERSITYGW_VERSION} needs Go 1.25+, found go${major}.${minor}`);
    mkdirSync(join(home, 'bin'), { recursive: true });
    run('go', ['install', `github.com/versity/versitygw/cmd/versitygw@${VERSITYGW_VERSION}`], {
      what: `go install versitygw@${VERSITYGW_VERSION}`,
      env: { ...process.env, GOBIN: join(home, 'bin'), CGO_ENABLED: '0' },
    });
  },

  async start() {
    mkdirSync(dataDir, { recursive: true });
    const backendArgs = ['posix'];
    if (!supportsXattr(stateDir)) {
      mkdirSync(sidecarDir, { recursive: true });
      backendArgs.push('--sidecar', sidecarDir);
    }
    return spawnDaemon({
      command: binary,
      args: ['--port', `${LOCAL_STACK.host}:${port}`, '--region', region, '--quiet', ...backendArgs, dataDir],
      env: { ROOT_ACCESS_KEY: accessKey, ROOT_SECRET_KEY: secretKey },
      cwd: stateDir,
      logFile: logFile('object-store'),
      pidFile: pidFile('object-store'),
    });
  },

  async ready() {
    await s3Client().listBuckets();
    return true;
  },

  async afterReady() {
    const client = s3Client();
    if (!(await client.bucketExists(bucket))) await client.makeBucket(bucket, region);
  },
};
