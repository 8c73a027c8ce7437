import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { StackError } from './progress';
import { run, which } from './proc';

function javaMajor(javaBin: string): number | undefined {
  const res = spawnSync(javaBin, ['-version'], { encoding: 'utf8' });
  const match = /version "(\d+)/.exec(`${res.stderr}${res.stdout}`);
  return match?.[1] ? Number(match[1]) : undefined;
}

/** A `java` binary of at least `minMajor`, from PIPELINE_JAVA<minMajor>_HOME, JAVA_HOME, PATH or /usr/lib/jvm. */
export function findJava(minMajor: number): string {
  const candidates: string[] = [];
  const explicit = process.env[`PIPELINE_JAVA${minMajor}_HOME`];
  if (explicit) candidates.push(join(explicit, 'bin', 'java'));
  if (process.env['JAVA_HOME']) candidates.push(join(process.env['JAVA_HOME'], 'bin', 'java'));
  const onPath = which('java');
  if (onPath) candidates.push(onPath);
  if (existsSync('/usr/lib/jvm')) {
    for (const dir of readdirSync('/usr/lib/jvm').sort().reverse()) candidates.push(join('/usr/lib/jvm', dir, 'bin', 'java'));
  }
  let best: { bin: string; major: number } | undefined;
  for (const bin of candidates) {
    if (!existsSync(bin)) continue;
    const major = javaMajor(bin);
    if (major === undefined || major < minMajor) continue;
    // Prefer the oldest that satisfies the minimum: Kafka is tested on 17, Trino on 24+.
    if (!best || major < best.major) best = { bin, major };
  }
  if (!best) {
    throw new StackError(
      `no Java ${minMajor}+ found (looked at PIPELINE_JAVA${minMajor}_HOME, JAVA_HOME, PATH and /usr/lib/jvm); ` +
        `install a JDK ${minMajor} or newer and set PIPELINE_JAVA${minMajor}_HOME`,
    );
  }
  return best.bin;
}

let localRepo: string | undefined;

/** Maven's local repository (the download cache), honouring the user's settings.xml. */
export function mavenLocalRepo(): string {
  if (localRepo) return localRepo;
  requireTool('mvn', 'Maven (Debian package maven)');
  const fallback = join(homedir(), '.m2', 'repository');
  const res = spawnSync('mvn', ['-B', '-q', 'help:evaluate', '-Dexpression=settings.localRepository', '-DforceStdout'], {
    encoding: 'utf8',
  });
  const path = res.status === 0 ? res.stdout.trim() : '';
  localRepo = path && existsSync(path) ? path : fallback;
  return localRepo;
}

/**
 * Resolves one artifact from Maven Central into the local repository (a no-op when cached)
 * and returns its path. `coords` is group:artifact:version:type[:classifier].
 */
export function mavenFetch(coords: string): string {
  requireTool('mvn', 'Maven (Debian package maven)');
  run('mvn', ['-B', '-q', 'dependency:get', '-Dtransitive=false', `-Dartifact=${coords}`], { what: `mvn dependency:get ${coords}` });
  const [group, artifact, version, type, classifier] = coords.split(':');
  if (!group || !artifact || !version || !type) throw new StackError(`bad Maven coordinates ${coords}`);
  const file = `${artifact}-${version}${classifier ? `-${classifier}` : ''}.${type}`;
  const path = join(mavenLocalRepo(), ...group.split('.'), artifact, version, file);
  if (!existsSync(path)) throw new StackError(`Maven reported success but ${path} is missing`);
  return path;
}

export function requireTool(command: string, what: string): string {
  const path = which(command);
  if (!path) throw new StackError(`${command} not found: install ${what}`);
  return path;
}

/** `go version` as [major, minor]. */
export function goVersion(): [number, number] {
  requireTool('go', 'Go 1.25 or newer');
  const out = run('go', ['version'], { what: 'go version' });
  const match = /go(\d+)\.(\d+)/.exec(out);
  if (!match) throw new StackError(`cannot read the Go version from: ${out}`);
  return [Number(match[1]), Number(match[2])];
}
