import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { localStackStateDir } from '@pipeline/config';

/** Repository root (deploy/local/src -> ../../..). */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..');

/**
 * Downloads and unpacked services live outside the repository so a fresh clone reuses them.
 * Maven's and Go's own caches (~/.m2, ~/go/pkg/mod) sit beside it.
 */
export const CACHE_DIR =
  process.env['PIPELINE_CACHE_DIR'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'event-pipeline');

/** Data directories, logs and pid files of the running stack. */
export const STATE_DIR = localStackStateDir();

export const LOG_DIR = join(STATE_DIR, 'logs');
export const RUN_DIR = join(STATE_DIR, 'run');

export function logFile(service: string): string {
  return join(LOG_DIR, `${service}.log`);
}

export function pidFile(service: string): string {
  return join(RUN_DIR, `${service}.pid`);
}
