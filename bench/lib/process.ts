import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Runs a command to completion, returning its stdout; rejects with its output on a non-zero exit. */
export async function run(command: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const child = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${code}:\n${out}\n${err}`);
  return out;
}

/** Resident set size of a process in MB, from /proc (Linux). */
export function rssMb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1]);
    return Number.isFinite(kb) ? kb / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples the RSS of `pid` every `intervalMs` until stopped; reports the maximum. */
export function sampleRss(pid: number, intervalMs = 200): { stop: () => { maxMb: number; samples: number } } {
  let maxMb = 0;
  let samples = 0;
  const timer = setInterval(() => {
    const mb = rssMb(pid);
    if (mb !== undefined) {
      samples++;
      maxMb = Math.max(maxMb, mb);
    }
  }, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      return { maxMb: Math.round(maxMb * 10) / 10, samples };
    },
  };
}

export interface Service {
  child: ChildProcess;
  url: string;
  output: () => string;
  stop: () => Promise<void>;
}

/** Starts a long-running process and waits until `ready()` holds. */
export async function startService(command: string, args: string[], opts: { env: NodeJS.ProcessEnv; url: string; ready: () => Promise<boolean>; timeoutMs?: number }): Promise<Service> {
  const child = spawn(command, args, { env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${command} exited early:\n${output}`);
    if (await opts.ready().catch(() => false)) break;
    if (Date.now() > deadline) throw new Error(`${command} not ready in time:\n${output}`);
    await sleep(200);
  }
  return {
    child,
    url: opts.url,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(30_000).then(() => child.kill('SIGKILL'))]);
    },
  };
}
