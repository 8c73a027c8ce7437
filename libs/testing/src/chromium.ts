import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CHROMIUM = '/usr/bin/chromium';

/** Flags for a quiet, headless, sandbox-free Chromium that calls no Google service. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Makes sure Debian's chromium is at /usr/bin/chromium: installs it with apt-get when running as
 * root (CI and the dev machines are), and otherwise fails with the command to run.
 */
export function ensureChromium(): string {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  if (process.getuid?.() !== 0) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (sudo apt-get update && sudo apt-get install -y chromium) and run the test again`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['install', '-y', '-q', 'chromium'], { stdio: 'pipe', env, timeout: 300_000 });
  } catch {
    // The package lists may be missing or stale: refresh them once and try again.
    execFileSync('apt-get', ['update', '-q'], { stdio: 'pipe', env, timeout: 300_000 });
    execFileSync('apt-get', ['install', '-y', '-q', 'chromium'], { stdio: 'pipe', env, timeout: 300_000 });
  }
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium but ${CHROMIUM} is still missing`);
  return CHROMIUM;
}
