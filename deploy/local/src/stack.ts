import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { LOG_DIR, RUN_DIR, logFile, pidFile } from './paths';
import { StackError, step } from './progress';
import { livePid, portOpen, removeFile, stopPid, waitUntil } from './proc';
import type { Service } from './service';
import { kafka } from './services/kafka';
import { objectStore } from './services/object-store';
import { postgres } from './services/postgres';
import { registry } from './services/registry';
import { trino } from './services/trino';


/** Start order: the registry and Trino keep their state in PostgreSQL; Trino also needs the object store. */
export const SERVICES: Service[] = [postgres, objectStore, kafka, registry, trino];

export function selectServices(names: string[]): Service[] {
  if (names.length === 0) return SERVICES;
  return names.map((name) => {
    const svc = SERVICES.find((s) => s.name === name);
    if (!svc) throw new StackError(`unknown service "${name}"; known: ${SERVICES.map((s) => s.name).join(', ')}`);
    return svc;
  });
}

export async function install(services: Service[] = SERVICES): Promise<void> {
  for (const svc of services) {
    if (svc.isInstalled()) {
      console.log(`  ✓ ${svc.version}: installed`);
      continue;
    }
    await step(`installing ${svc.name}`, () => svc.install(), () => `${svc.version}: installed`);
  }
}

export function pidOf(svc: Service): number | undefined {
  return livePid(pidFile(svc.name), svc.marker);
}

/** Installs what is missing, then starts every service that is not running and waits until each is ready. */
export async function up(services: Service[] = SERVICES): Promise<Service[]> {
  mkdirSync(LOG_DIR, { recursive: true });
  mkdirSync(RUN_DIR, { recursive: true });
  await install(services);
  const started: Service[] = [];
  for (const svc of services) {
    const running = pidOf(svc);
    if (running !== undefined && (await svc.ready().catch(() => false))) {
      console.log(`  ✓ ${svc.name} already running (pid ${running}) on 127.0.0.1:${svc.ports[0]}`);
      await svc.afterReady?.();
      continue;
    }
    if (running === undefined) {
      for (const port of svc.ports) {
        if (await portOpen(port)) {
          throw new StackError(`${svc.name}: port ${port} is already in use by a process this stack did not start; stop it or free the port`);
        }
      }
    }
    await step(
      `starting ${svc.name}`,
      async () => {
        const pid = running ?? (await svc.start());
        await waitUntil(() => svc.ready(), {
          timeoutMs: svc.readyTimeoutMs,
          intervalMs: 500,
          alive: () => pidOf(svc) !== undefined,
          describe: () => `${svc.name} did not become ready; see its log: ${logFile(svc.name)}\n${tail(logFile(svc.name), 15)}`,
        });
        await svc.afterReady?.();
        return pid;
      },
      (pid) => `${svc.name} ready on 127.0.0.1:${svc.ports[0]} (pid ${pid}, ${svc.version})`,
    );
    started.push(svc);
  }
  return started;
}

/** Stops the given services (all by default) in reverse start order, by pid file only. */
export async function down(services: Service[] = SERVICES): Promise<void> {
  for (const svc of [...services].reverse()) {
    const pid = pidOf(svc);
    if (pid === undefined) {
      removeFile(pidFile(svc.name));
      console.log(`  - ${svc.name} not running`);
      continue;
    }
    await step(`stopping ${svc.name} (pid ${pid})`, () => stopPid(pid, svc.stopSignal, svc.stopTimeoutMs), () => `${svc.name} stopped`);
    removeFile(pidFile(svc.name));
  }
}

export async function status(services: Service[] = SERVICES): Promise<boolean> {
  let allUp = true;
  for (const svc of services) {
    const pid = pidOf(svc);
    const ready = pid !== undefined && (await svc.ready().catch(() => false));
    allUp &&= ready;
    const state = pid === undefined ? 'stopped' : ready ? 'ready' : 'starting/unhealthy';
    const installed = svc.isInstalled() ? '' : ' (not installed)';
    console.log(`${svc.name.padEnd(13)} ${state.padEnd(18)} ${pid ? `pid ${pid}`.padEnd(11) : ''.padEnd(11)} 127.0.0.1:${svc.ports.join(',')}  ${svc.version}${installed}`);
  }
  return allUp;
}

export function logs(services: Service[], follow: boolean, lines: number): void {
  const files = services.map((s) => logFile(s.name)).filter((f) => existsSync(f));
  if (files.length === 0) {
    console.log('no logs yet');
    return;
  }
  spawnSync('tail', [...(follow ? ['-F'] : []), '-n', String(lines), ...files], { stdio: 'inherit' });
}

function tail(file: string, lines: number): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).map((l) => `    | ${l}`).join('\n');
}
