import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { waitFor } from '@pipeline/testing';

const root = join(__dirname, '..', '..', '..', '..');
const APPS = ['producer', 'stream-processor', 'compactor', 'query-api'];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

describe.each(APPS)('%s (built bundle, real dependencies)', (app) => {
  let child: ChildProcess | undefined;
  let output = '';

  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it('serves /healthz, /readyz and /metrics, then stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    child = spawn(process.execPath, [join(root, 'dist', 'apps', app, 'main.cjs')], {
      env: { ...process.env, HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const base = `http://127.0.0.1:${port}`;

    await waitFor(async () => (await fetch(`${base}/healthz`)).ok, { timeoutMs: 30_000, what: `${app} /healthz` });
    const ready = await waitFor(async () => {
      const res = await fetch(`${base}/readyz`);
      return res.ok ? ((await res.json()) as { ready: boolean; checks: Record<string, { ok: boolean }> }) : undefined;
    }, { timeoutMs: 30_000, what: `${app} /readyz` });
    expect(ready.ready).toBe(true);
    expect(Object.keys(ready.checks).length).toBeGreaterThan(0);

    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain(`process_resident_memory_bytes{app="${app}"}`);

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code, signal] = (await Promise.race([
      exited,
      new Promise((_, reject) => setTimeout(() => reject(new Error(`${app} did not exit within 15 s:\n${output}`)), 15_000)),
    ])) as [number | null, NodeJS.Signals | null];
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(output).toContain('"msg":"shutting down"');
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});
