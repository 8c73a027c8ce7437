import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { LOCAL_STACK, LOCAL_URLS } from '@pipeline/config';
import { withChartHeapLimit } from '@pipeline/testing';
import { REPO_ROOT } from './paths';
import { nx } from './nx';
import { StackError } from './progress';
import { down, up } from './stack';

/**
 * The apps in start order. Each is started once the one before it answers /readyz: the collector
 * creates events.raw and events.dlq, the processor events.clean, events.late and agg.*, and the
 * compactor subscribes to those, which fails if they do not exist yet (a fresh stack).
 */
export const APPS = [
  { name: 'producer', port: LOCAL_STACK.apps.producer },
  { name: 'stream-processor', port: LOCAL_STACK.apps.streamProcessor },
  { name: 'compactor', port: LOCAL_STACK.apps.compactor },
  { name: 'query-api', port: LOCAL_STACK.apps.queryApi },
] as const;

/** The query API's public development token (apps/query-api/config/tokens.development.yaml), used under NODE_ENV=development. */
export const DEVELOPMENT_QUERY_TOKEN = 'qapi_local_development_only';

/** `--demo` traffic: a gentle, steady mix from the load generator, enough to fill the dashboard. */
export const DEMO_LOAD = { ratePerSec: 20, batch: 10, durationSec: 30 * 86_400 };

const READY_TIMEOUT_MS = 180_000;

export interface StartOptions {
  /** Run the load generator once the apps are ready. */
  demo: boolean;
}

/** Options of `npm start -- [--demo]`; anything else is an error. */
export function parseStartArgs(args: readonly string[]): StartOptions {
  const unknown = args.filter((a) => a !== '--demo');
  if (unknown.length > 0) throw new StackError(`unknown option ${unknown.join(' ')} (npm start accepts --demo)`);
  return { demo: args.includes('--demo') };
}

/** Arguments of the load generator CLI (apps/producer/src/cli/loadgen.ts) for `--demo`, against the apps' settings in `env`. */
export function demoLoadgenArgs(env: NodeJS.ProcessEnv): string[] {
  return [
    '--rate', String(DEMO_LOAD.ratePerSec),
    '--batch', String(DEMO_LOAD.batch),
    '--duration', String(DEMO_LOAD.durationSec),
    '--concurrency', '4',
    '--url', `http://127.0.0.1:${LOCAL_STACK.apps.producer}`,
    '--registry', env['SCHEMA_REGISTRY_URL'] ?? LOCAL_URLS.registry,
    '--subject-prefix', env['SCHEMA_SUBJECT_PREFIX'] ?? '',
  ];
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/** Polls the app's /readyz; rejects when the app exits first or the time runs out. */
async function waitReady(name: string, port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!running(child)) throw new StackError(`${name} exited before it was ready; see its output above`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2_000) })).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new StackError(`${name} was not ready within ${READY_TIMEOUT_MS / 1000} s; see its output above`);
}

/** Forwards a child's output line by line behind a name column. */
function forward(name: string, stream: NodeJS.ReadableStream | null): void {
  const prefix = `${name.padEnd(16)}| `;
  stream?.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line) process.stdout.write(prefix + line + '\n');
  });
}

/**
 * `npm start`: the stack, then the four apps in the foreground with prefixed output, started in
 * order; with `--demo`, the load generator too. Ctrl-C stops everything.
 */
export async function runPipeline(opts: StartOptions = { demo: false }): Promise<number> {
  console.log('== local stack');
  const startedServices = await up();
  console.log('== building apps');
  const build = await nx(['run-many', '-t', 'build', '-p', APPS.map((a) => a.name).join(','), '--outputStyle=static']);
  if (build.code !== 0) throw new StackError('building the apps failed; see above');
  for (const app of APPS) {
    if (!(await portFree(app.port))) throw new StackError(`port ${app.port} (${app.name}) is in use: is another npm start running?`);
  }

  const children = new Map<string, ChildProcess>();
  let loadgen: ChildProcess | undefined;
  let stopping = false;
  const stopChild = (child: ChildProcess, signal: NodeJS.Signals, graceMs: number) =>
    new Promise<void>((resolve) => {
      if (!running(child)) return resolve();
      child.once('exit', () => resolve());
      child.kill(signal);
      setTimeout(() => child.kill('SIGKILL'), graceMs).unref();
    });
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\n== stopping apps');
    // Traffic first (it prints its summary on SIGINT), then the apps.
    if (loadgen) await stopChild(loadgen, 'SIGINT', 10_000);
    await Promise.all([...children.values()].map((child) => stopChild(child, 'SIGTERM', 15_000)));
    if (startedServices.length > 0) {
      console.log('== stopping the services this run started');
      await down(startedServices);
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    for (const app of APPS) {
      const main = join(REPO_ROOT, 'dist', 'apps', app.name, 'main.cjs');
      if (!existsSync(main)) throw new StackError(`${main} is missing after the build`);
      console.log(`== starting ${app.name}`);
      const started = Date.now();
      const child = spawn(process.execPath, ['--enable-source-maps', main], {
        cwd: REPO_ROOT,
        // The heap limit the Helm chart gives the app's pod, so memory behaves as deployed.
        env: { ...process.env, NODE_ENV: process.env['NODE_ENV'] ?? 'development', NODE_OPTIONS: withChartHeapLimit(app.name, process.env['NODE_OPTIONS']) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      forward(app.name, child.stdout);
      forward(app.name, child.stderr);
      child.on('exit', (code, signal) => {
        if (stopping) return;
        console.log(`${app.name.padEnd(16)}| exited (${signal ?? code}); stopping the pipeline`);
        void stopAll(1);
      });
      children.set(app.name, child);
      await waitReady(app.name, app.port, child);
      console.log(`   ${app.name} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  } catch (err) {
    if (err instanceof StackError) console.error(`error: ${err.message}`);
    await stopAll(1);
    return 1;
  }

  const tokenConfigured = process.env['QUERY_API_TOKENS'] !== undefined || process.env['QUERY_API_TOKENS_FILE'] !== undefined;
  console.log('\n== pipeline running');
  for (const app of APPS) console.log(`  ${app.name.padEnd(16)} http://127.0.0.1:${app.port}  (/healthz /readyz /metrics)`);
  console.log(`  dashboard        http://127.0.0.1:${LOCAL_STACK.apps.queryApi}/${tokenConfigured ? '' : `#token=${DEVELOPMENT_QUERY_TOKEN}`}`);

  if (opts.demo) {
    const args = demoLoadgenArgs(process.env);
    console.log(`  load generator   ${DEMO_LOAD.ratePerSec} events/s into the collector (--demo)`);
    // The same process group as this one, so Ctrl-C reaches it; its progress line goes straight to the terminal.
    loadgen = spawn(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), ['--tsconfig', 'apps/producer/tsconfig.json', 'apps/producer/src/cli/loadgen.ts', ...args], {
      cwd: REPO_ROOT,
      env: process.env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    forward('loadgen', loadgen.stdout);
    loadgen.on('exit', (code, signal) => {
      if (!stopping) console.log(`${'loadgen'.padEnd(16)}| exited (${signal ?? code}); the pipeline keeps running`);
    });
  }
  console.log('Ctrl-C stops everything.');
  return new Promise<number>(() => undefined);
}
