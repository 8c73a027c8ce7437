import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GO_TOOLS_DIR, TOOLS_DIR } from './paths';

/**
 * Versions of the check tools. Each comes from a package registry through its ordinary client and
 * is kept in the cache (PIPELINE_CACHE_DIR, default ~/.cache/event-pipeline/tools), never in the repo.
 */
export const TOOL_VERSIONS = {
  /** `go install helm.sh/helm/v3/cmd/helm@…` (Go module proxy). */
  helm: 'v3.22.0',
  /** `go install github.com/yannh/kubeconform/cmd/kubeconform@…` (Go module proxy). */
  kubeconform: 'v0.8.0',
  /** PyPI package whose wheel ships the Kubernetes API JSON schemas (`pip download`). */
  kubernetesValidate: '1.37.0',
} as const;

/** Kubernetes API versions the rendered chart is validated against (oldest supported and a current one). */
export const KUBERNETES_VERSIONS = ['1.30.0', '1.34.0'] as const;

export interface Tools {
  helm: string;
  kubeconform: string;
  composeConfig: string;
  /** Directory holding `v<version>-local-strict/` schema folders for kubeconform. */
  kubernetesSchemas: string;
}

function log(message: string): void {
  process.stdout.write(`deploy-checks: ${message}\n`);
}

/**
 * Runs a command to completion. With `stream`, its stderr goes straight to ours, so a long first
 * install shows its progress (`go: downloading …` lines) instead of a silent wait.
 */
function run(command: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; what: string; stream?: boolean }): string {
  const res = spawnSync(command, args, {
    cwd: opts.cwd ?? TOOLS_DIR,
    env: { ...process.env, ...opts.env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', opts.stream ? 'inherit' : 'pipe'],
  });
  if (res.error) throw new Error(`${opts.what}: ${res.error.message}`);
  if (res.status !== 0) {
    const tail = `${res.stdout ?? ''}${res.stderr ?? ''}`.trim().split('\n').slice(-20).join('\n');
    throw new Error(`${opts.what} failed (exit ${res.status})${opts.stream ? '; see its output above' : ''}:\n${tail}`);
  }
  return res.stdout;
}

/** Runs `install` once per cache; a marker file makes later calls free. Prints what it does and how long it took. */
function once(dir: string, label: string, install: (dir: string) => void): string {
  const marker = join(dir, '.installed');
  if (existsSync(marker)) return dir;
  const started = Date.now();
  log(`installing ${label} into ${dir} (first run only)…`);
  const staging = `${dir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    install(staging);
    writeFileSync(join(staging, '.installed'), `${label}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  log(`installed ${label} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return dir;
}

function requireGo(): void {
  const res = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error('go not found: the deploy checks build helm, kubeconform and compose-config with Go 1.25+');
}

function goInstall(pkg: string, version: string, name: string): string {
  const dir = join(TOOLS_DIR, `${name}-${version}`);
  once(dir, `${name} ${version} (go install ${pkg}@${version})`, (staging) => {
    requireGo();
    run('go', ['install', `${pkg}@${version}`], {
      env: { GOBIN: join(staging, 'bin'), CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
      what: `go install ${pkg}@${version}`,
      stream: true,
    });
  });
  return join(dir, 'bin', name);
}

/** compose-config (tools/deploy-checks/go): rebuilt when its sources change, keyed by their hash. */
function composeConfig(): string {
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum', 'compose-config/main.go']) hash.update(readFileSync(join(GO_TOOLS_DIR, file)));
  const dir = join(TOOLS_DIR, `compose-config-${hash.digest('hex').slice(0, 12)}`);
  once(dir, 'compose-config (compose-go, go build)', (staging) => {
    requireGo();
    run('go', ['build', '-o', join(staging, 'bin', 'compose-config'), './compose-config'], {
      cwd: GO_TOOLS_DIR,
      env: { CGO_ENABLED: '0', GOFLAGS: '-mod=readonly' },
      what: 'go build compose-config',
      stream: true,
    });
  });
  return join(dir, 'bin', 'compose-config');
}

/**
 * The Kubernetes API JSON schemas from the `kubernetes-validate` wheel (PyPI), laid out for
 * kubeconform. The wheel's "local-strict" schemas point at `/api/_definitions.json` and carry an
 * `$id` on another host; both are rewritten so every reference resolves to a file beside it.
 */
function kubernetesSchemas(): string {
  const version = TOOL_VERSIONS.kubernetesValidate;
  const dir = join(TOOLS_DIR, `kubernetes-json-schema-${version}-${KUBERNETES_VERSIONS.join('_')}`);
  once(dir, `Kubernetes JSON schemas ${KUBERNETES_VERSIONS.join(', ')} (pip download kubernetes-validate==${version})`, (staging) => {
    const download = mkdtempSync(join(TOOLS_DIR, 'pip-'));
    try {
      run('python3', ['-m', 'pip', 'download', '--quiet', '--no-deps', '--only-binary=:all:', '--dest', download, `kubernetes-validate==${version}`], {
        what: 'pip download kubernetes-validate',
      });
      const wheel = readdirSync(download).find((f) => f.endsWith('.whl'));
      if (!wheel) throw new Error('pip download produced no wheel');
      const prefixes = KUBERNETES_VERSIONS.map((v) => `kubernetes_validate/kubernetes-json-schema/v${v}-local-strict/`);
      // Python's zipfile extracts just the folders we need (the wheel holds every version since 1.25).
      const script = [
        'import sys, zipfile',
        'wheel, out, prefixes = sys.argv[1], sys.argv[2], sys.argv[3:]',
        'z = zipfile.ZipFile(wheel)',
        'names = [n for n in z.namelist() if any(n.startswith(p) for p in prefixes)]',
        'z.extractall(out, names)',
        'print(len(names))',
      ].join('\n');
      const count = Number(run('python3', ['-c', script, join(download, wheel), download, ...prefixes], { what: 'unzip kubernetes-validate' }).trim());
      if (!(count > 100)) throw new Error(`kubernetes-validate ${version} holds no schemas for ${KUBERNETES_VERSIONS.join(', ')}`);
      for (const v of KUBERNETES_VERSIONS) {
        const from = join(download, 'kubernetes_validate', 'kubernetes-json-schema', `v${v}-local-strict`);
        const to = join(staging, `v${v}-local-strict`);
        mkdirSync(to, { recursive: true });
        for (const file of readdirSync(from)) {
          if (!file.endsWith('.json')) continue;
          const schema = JSON.parse(readFileSync(join(from, file), 'utf8')) as Record<string, unknown>;
          delete schema['$id'];
          const text = JSON.stringify(schema).replaceAll('"/api/_definitions.json#', '"_definitions.json#');
          writeFileSync(join(to, file), text);
        }
      }
    } finally {
      rmSync(download, { recursive: true, force: true });
    }
  });
  return dir;
}

/** Installs what is missing (printing progress) and returns the paths of every check tool. */
export function ensureTools(): Tools {
  mkdirSync(TOOLS_DIR, { recursive: true });
  return {
    helm: goInstall('helm.sh/helm/v3/cmd/helm', TOOL_VERSIONS.helm, 'helm'),
    kubeconform: goInstall('github.com/yannh/kubeconform/cmd/kubeconform', TOOL_VERSIONS.kubeconform, 'kubeconform'),
    composeConfig: composeConfig(),
    kubernetesSchemas: kubernetesSchemas(),
  };
}
