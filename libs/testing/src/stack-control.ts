import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { localStackStateDir } from '@pipeline/config';
import { runCommand } from './processes';

/** The local stack's services, as the stack tool (`deploy/local`) names them. */
export const STACK_SERVICES = ['postgres', 'object-store', 'kafka', 'registry', 'trino'] as const;
export type StackService = (typeof STACK_SERVICES)[number];

const REPO_ROOT = resolve(__dirname, '../../..');

/**
 * Stops or starts one service of the shared local stack through the stack tool, so its pid file
 * stays right (`up` returns once the service answers its readiness check). A service is required:
 * stopping the whole stack from a test would stop it for everyone. Rejects with the tool's output
 * when it exits non-zero.
 */
export async function stackService(action: 'up' | 'down', service: StackService): Promise<void> {
  if (!STACK_SERVICES.includes(service)) throw new Error(`unknown stack service "${String(service)}"`);
  const tsx = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
  const args = ['--tsconfig', join(REPO_ROOT, 'deploy/local/tsconfig.json'), join(REPO_ROOT, 'deploy/local/src/cli.ts'), 'stack', action, service];
  try {
    await runCommand(tsx, args, { cwd: REPO_ROOT });
  } catch (err) {
    throw new Error(`stack ${action} ${service} failed: ${(err as Error).message.slice(-2_000)}`);
  }
}

/** Pid of each local stack service the stack tool started and that is still running. */
export function stackPids(): Partial<Record<StackService, number>> {
  const out: Partial<Record<StackService, number>> = {};
  for (const service of STACK_SERVICES) {
    const file = join(localStackStateDir(), 'run', `${service}.pid`);
    if (!existsSync(file)) continue;
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    if (Number.isInteger(pid) && existsSync(`/proc/${pid}`)) out[service] = pid;
  }
  return out;
}
