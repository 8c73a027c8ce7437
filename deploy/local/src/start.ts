import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_STACK } from '@pipeline/config';
import { REPO_ROOT } from './paths';
import { nx } from './nx';
import { StackError } from './progress';
import { down, up } from './stack';

export const APPS = [
  { name: 'producer', port: LOCAL_STACK.apps.producer },
  { name: 'stream-processor', port: LOCAL_STACK.apps.streamProcessor },
  { name: 'compactor', port: LOCAL_STACK.apps.compactor },
  { name: 'query-api', port: LOCAL_STACK.apps.queryApi },
] as const;

/** `npm start`: the stack, then the four apps in the foreground with prefixed output. Ctrl-C stops all of it. */
export async function runPipeline(): Promise<number> {
  console.log('== local stack');
  const startedServices = await up();
  console.log('== building apps');
  const build = await nx(['run-many', '-t', 'build', '-p', APPS.map((a) => a.name).join(','), '--outputStyle=static']);
  if (build.code !== 0) throw new StackError('building the apps failed; see above');

  const children = new Map<string, ChildProcess>();
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\n== stopping apps');
    await Promise.all(
      [...children.values()].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
          }),
      ),
    );
    if (startedServices.length > 0) {
      console.log('== stopping the services this run started');
      await down(startedServices);
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  for (const app of APPS) {
    const main = join(REPO_ROOT, 'dist', 'apps', app.name, 'main.cjs');
    if (!existsSync(main)) throw new StackError(`${main} is missing after the build`);
    const child = spawn(process.execPath, ['--enable-source-maps', main], {
      cwd: REPO_ROOT,
      env: { ...process.env, NODE_ENV: process.env['NODE_ENV'] ?? 'development' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const prefix = `${app.name.padEnd(16)}| `;
    const forward = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line) process.stdout.write(prefix + line + '\n');
    };
    child.stdout?.on('data', forward);
    child.stderr?.on('data', forward);
    child.on('exit', (code, signal) => {
      if (stopping) return;
      console.log(`${prefix}exited (${signal ?? code}); stopping the pipeline`);
      void stopAll(1);
    });
    children.set(app.name, child);
  }

  console.log('\n== pipeline running');
  for (const app of APPS) console.log(`  ${app.name.padEnd(16)} http://127.0.0.1:${app.port}  (/healthz /readyz /metrics)`);
  console.log(`  dashboard        http://127.0.0.1:${LOCAL_STACK.apps.queryApi}/`);
  console.log('Ctrl-C stops everything.');
  return new Promise<number>(() => undefined);
}
