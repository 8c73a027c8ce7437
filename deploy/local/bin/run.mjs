#!/usr/bin/env node
// Entry point of `npm start`, `npm test` and `npm run stack`. Plain JavaScript so it runs on a
// fresh clone: it installs the npm dependencies when they are missing or stale, then hands over
// to the TypeScript CLI. npm keeps its download cache in ~/.npm, outside the repository.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const lockFile = join(root, 'package-lock.json');
const patchesDir = join(root, 'patches');
const stampFile = join(root, 'node_modules', '.pipeline-lock-hash');

/** The lock file and the dependency patches (applied by patch-package on install): either changing reinstalls. */
function lockHash() {
  const hash = createHash('sha256').update(readFileSync(lockFile));
  if (existsSync(patchesDir)) {
    for (const name of readdirSync(patchesDir).sort()) hash.update(name).update(readFileSync(join(patchesDir, name)));
  }
  return hash.digest('hex');
}

function ensureDependencies() {
  const wanted = lockHash();
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === wanted) return;
  const started = Date.now();
  // A fresh clone gets the exact lock file (npm ci); an existing tree is updated in place, so
  // processes already running from node_modules are not pulled out from under.
  const fresh = !existsSync(join(root, 'node_modules'));
  const args = fresh ? ['ci'] : ['install'];
  process.stdout.write(`installing npm dependencies (npm ${args[0]})...\n`);
  const res = spawnSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root, stdio: 'inherit' });
  if (res.status !== 0) {
    console.error(`npm ${args[0]} failed with exit code ${res.status}`);
    process.exit(res.status ?? 1);
  }
  writeFileSync(stampFile, wanted);
  process.stdout.write(`npm dependencies installed in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

ensureDependencies();
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const cli = join(root, 'deploy', 'local', 'src', 'cli.ts');
const tsconfig = join(root, 'deploy', 'local', 'tsconfig.json');
const res = spawnSync(tsx, ['--tsconfig', tsconfig, cli, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
if (res.signal) process.kill(process.pid, res.signal);
process.exit(res.status ?? 1);
