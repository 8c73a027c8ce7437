/**
 * Python virtual environments for tests, built from a pinned requirements file with pip (default
 * index) and kept in the project's download cache, like the stack's services: `$PIPELINE_CACHE_DIR`,
 * default `~/.cache/event-pipeline`, under `python/<name>-<key>`. The key hashes the requirements
 * file and the interpreter, so a changed pin or Python builds a new venv and an unchanged one is
 * reused at no cost. Safe to run concurrently: each installer builds in its own staging directory
 * and renames it into place, and a rename that finds the venv already there lost the race and
 * discards its copy. A lock directory only spares the work: while its owner lives, others wait for
 * its result instead of downloading the same packages; a dead owner's lock is taken over.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface PythonEnv {
  /** The venv's interpreter. */
  python: string;
  dir: string;
  /** False when the cached venv was reused. */
  installed: boolean;
  /** Time spent in {@link ensurePythonEnv}, seconds. */
  seconds: number;
}

export interface PythonEnvSpec {
  /** Short name, part of the directory name. */
  name: string;
  requirements: string;
  /** Modules imported once after the install, so a broken venv is never published. */
  imports: string[];
  /** Progress lines (default: stderr, which jest passes through as it comes). */
  log?: (line: string) => void;
}

/** Oldest Python the pinned requirements support. */
const MIN_PYTHON: [number, number] = [3, 10];
const PIP_PROGRESS = /^(Downloading|Using cached|Installing collected|Successfully installed)/;

function cacheDir(): string {
  return process.env['PIPELINE_CACHE_DIR'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'event-pipeline');
}

function defaultLog(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The base interpreter (`PIPELINE_PYTHON` or `python3`): its version and real path; fails when it is missing, too old or has no venv/pip support. */
function baseInterpreter(): { command: string; version: string; executable: string } {
  const command = process.env['PIPELINE_PYTHON'] ?? 'python3';
  const probe = spawnSync(command, ['-c', 'import sys, venv, ensurepip; print(sys.version.split()[0]); print(sys.executable)'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `${command} cannot create virtual environments (${probe.error?.message ?? probe.stderr.trim().split('\n').pop()}): ` +
        `install Python ${MIN_PYTHON.join('.')}+ with venv and ensurepip (Debian: apt-get install python3-venv), or point PIPELINE_PYTHON at one`,
    );
  }
  const [version = '', executable = ''] = probe.stdout.trim().split('\n');
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major < MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor < MIN_PYTHON[1])) {
    throw new Error(`${command} is Python ${version}; the pinned requirements need ${MIN_PYTHON.join('.')}+ (set PIPELINE_PYTHON)`);
  }
  return { command, version, executable: realpathSync(executable) };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Staging directories left by installers that died (their pid is in the name). */
function removeDeadStaging(parent: string, base: string): void {
  for (const entry of readdirSync(parent)) {
    const match = new RegExp(`^${base}\\.tmp-(\\d+)-[0-9a-f]+$`).exec(entry);
    if (match && !pidAlive(Number(match[1]))) rmSync(join(parent, entry), { recursive: true, force: true });
  }
}

/** Whether the lock directory's owner is alive (or took it a moment ago and has not written its pid yet). */
function lockHeld(lock: string): boolean {
  let pid = Number.NaN;
  try {
    pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
  } catch {
    // Not written yet, or the lock is gone.
  }
  if (pid > 0) return pidAlive(pid);
  const stat = statSync(lock, { throwIfNoEntry: false });
  return stat !== undefined && Date.now() - stat.mtimeMs < 10_000;
}

/** Takes the lock directory (true), or reports that a live process holds it (false); a dead owner's lock is taken over. */
function tryLock(lock: string): boolean {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (lockHeld(lock)) return false;
    rmSync(lock, { recursive: true, force: true });
  }
  return false;
}

const WAIT_FOR_OTHER_INSTALL_MS = 15 * 60_000;

/** Runs a command, sending the lines `show` accepts to `log`; rejects with the output's tail on failure. */
function runLogged(command: string, args: string[], opts: { what: string; log: (line: string) => void; show?: RegExp }): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PIP_NO_INPUT: '1' } });
    const tail: string[] = [];
    let pending = '';
    const onData = (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 30) tail.shift();
        if (opts.show?.test(line.trim())) opts.log(`  ${line.trim()}`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (err) => reject(new Error(`${opts.what}: ${err.message}`)));
    child.once('close', (code) => {
      if (pending) tail.push(pending);
      if (code === 0) resolveRun();
      else reject(new Error(`${opts.what} failed (exit ${code}):\n${tail.join('\n')}`));
    });
  });
}

/**
 * Returns a venv holding exactly the pinned requirements, creating it on first use (prints
 * progress; needs the package index) and reusing it afterwards. Rejects with pip's output when the
 * install fails; nothing half-installed is ever left where later runs would pick it up.
 */
export async function ensurePythonEnv(spec: PythonEnvSpec): Promise<PythonEnv> {
  const started = Date.now();
  const log = spec.log ?? defaultLog;
  const seconds = () => (Date.now() - started) / 1000;
  const base = baseInterpreter();
  const key = createHash('sha256')
    .update(readFileSync(spec.requirements))
    .update(`\0${base.version}\0${base.executable}`)
    .digest('hex')
    .slice(0, 16);
  const parent = join(cacheDir(), 'python');
  const name = `${spec.name}-${key}`;
  const dir = join(parent, name);
  const python = join(dir, 'bin', 'python');
  if (existsSync(join(dir, '.installed'))) return { python, dir, installed: false, seconds: seconds() };

  mkdirSync(parent, { recursive: true });
  const lock = join(parent, `${name}.lock`);
  const giveUpAt = Date.now() + WAIT_FOR_OTHER_INSTALL_MS;
  let owned = tryLock(lock);
  if (!owned) log(`${spec.name}: another process is installing ${dir}; waiting for it`);
  while (!owned && Date.now() < giveUpAt && !existsSync(join(dir, '.installed'))) {
    await new Promise((r) => setTimeout(r, 1_000));
    owned = tryLock(lock);
  }
  try {
    if (existsSync(join(dir, '.installed'))) return { python, dir, installed: false, seconds: seconds() };
    await install(spec, base, { parent, name, key, log });
  } finally {
    if (owned) rmSync(lock, { recursive: true, force: true });
  }
  log(`${spec.name}: ready in ${seconds().toFixed(1)} s`);
  return { python, dir, installed: true, seconds: seconds() };
}

/** Builds the venv in a staging directory and renames it to `<parent>/<name>` (see the module comment). */
async function install(
  spec: PythonEnvSpec,
  base: { command: string; version: string },
  at: { parent: string; name: string; key: string; log: (line: string) => void },
): Promise<void> {
  const { parent, name, key, log } = at;
  const dir = join(parent, name);
  const started = Date.now();
  removeDeadStaging(parent, name);
  const staging = join(parent, `${name}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  log(`${spec.name}: installing ${spec.requirements} into ${dir} with Python ${base.version} (first run only)`);
  const heartbeat = setInterval(() => log(`${spec.name}: still installing (${((Date.now() - started) / 1000).toFixed(0)} s)`), 20_000);
  try {
    await runLogged(base.command, ['-m', 'venv', staging], { what: 'python -m venv', log });
    const stagingPython = join(staging, 'bin', 'python');
    await runLogged(
      stagingPython,
      ['-m', 'pip', 'install', '--disable-pip-version-check', '--progress-bar', 'off', '--only-binary=:all:', '-r', spec.requirements],
      { what: `pip install -r ${spec.requirements}`, log, show: PIP_PROGRESS },
    );
    await runLogged(stagingPython, ['-c', spec.imports.map((m) => `import ${m}`).join('; ')], { what: `importing ${spec.imports.join(', ')}`, log });
    writeFileSync(join(staging, '.installed'), `${key}\n${new Date().toISOString()}\n`);
    // Only a complete venv is ever renamed into place, so a directory without the marker is debris.
    if (existsSync(dir) && !existsSync(join(dir, '.installed'))) rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(staging, dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || !existsSync(join(dir, '.installed'))) throw err;
      log(`${spec.name}: another run finished the same install first; using it`);
    }
  } finally {
    clearInterval(heartbeat);
    rmSync(staging, { recursive: true, force: true });
  }
}
