import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, readFileSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';

/** A TCP port nobody listens on right now (127.0.0.1). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

/**
 * Runs a command to completion and resolves with its stdout; rejects with the exit code, stdout and
 * stderr when it exits non-zero or cannot be started.
 */
export async function runCommand(command: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const child = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  // events.once rejects on 'error', which covers a command that cannot be started.
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${code}:\n${out}\n${err}`);
  return out;
}

/** Resident set size of a process in MB (Linux /proc), or undefined once it is gone. */
export function rssMb(pid: number): number | undefined {
  try {
    const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return Number.isFinite(kb) ? kb / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples the RSS of `pid` every `intervalMs` until `stop()`, which returns the maximum (MB) and the sample count. */
export function sampleRss(pid: number, intervalMs = 200): { stop: () => { maxMb: number; samples: number } } {
  let maxMb = 0;
  let samples = 0;
  const timer = setInterval(() => {
    const mb = rssMb(pid);
    if (mb === undefined) return;
    samples++;
    maxMb = Math.max(maxMb, mb);
  }, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      return { maxMb: Math.round(maxMb * 10) / 10, samples };
    },
  };
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface NodeProcessOptions {
  /** Script to run with this Node.js (a built bundle). */
  script: string;
  env: NodeJS.ProcessEnv;
  /** Working directory (default: this process's). */
  cwd?: string;
  /** Output goes here (appended) as well as to the in-memory tail. */
  logFile?: string;
  /** Polled until it holds; the start fails if the process exits first or the time runs out. */
  ready: () => Promise<boolean>;
  readyTimeoutMs?: number;
  name: string;
}

/** A running Node.js child with its output tail, exit promise and signal helpers. */
export class NodeProcess {
  private tail = '';
  private log: WriteStream | undefined;
  readonly exited: Promise<ExitStatus>;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    logFile: string | undefined,
  ) {
    if (logFile) {
      mkdirSync(dirname(logFile), { recursive: true });
      this.log = createWriteStream(logFile, { flags: 'a' });
    }
    const collect = (chunk: Buffer) => {
      this.tail = (this.tail + chunk.toString()).slice(-16_000);
      this.log?.write(chunk);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = (once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>).then(([code, signal]) => {
      this.log?.end();
      return { code, signal };
    });
  }

  static async start(opts: NodeProcessOptions): Promise<NodeProcess> {
    const child = spawn(process.execPath, ['--enable-source-maps', opts.script], {
      env: opts.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
    });
    const proc = new NodeProcess(opts.name, child, opts.logFile);
    const timeoutMs = opts.readyTimeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    try {
      // An exit ends the wait at once (a missing bundle or a bad setting), not at the timeout.
      for (let lastError: unknown; ; ) {
        if (!proc.running) throw new Error(`${opts.name} exited (${child.exitCode ?? child.signalCode}) before it was ready`);
        try {
          if (await opts.ready()) break;
        } catch (err) {
          lastError = err;
        }
        if (Date.now() > deadline) {
          throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.name} to be ready${lastError ? `; last error: ${(lastError as Error).message}` : ''}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } catch (err) {
      child.kill('SIGKILL');
      throw new Error(`${(err as Error).message}\n--- ${opts.name} output ---\n${proc.output()}`);
    }
    return proc;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  output(): string {
    return this.tail;
  }

  rssMb(): number | undefined {
    return this.running ? rssMb(this.pid) : undefined;
  }

  /** Sends `signal` and waits for the exit; SIGTERM escalates to SIGKILL after `graceMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 30_000): Promise<ExitStatus> {
    if (this.running) {
      this.child.kill(signal);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      try {
        return await this.exited;
      } finally {
        clearTimeout(timer);
      }
    }
    return this.exited;
  }
}

/** Sum of a Prometheus metric's samples in /metrics text whose labels include `labels`. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
