import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createAuditLog, type AuditRecord } from './audit-log';

const record = (n: number): AuditRecord => ({
  time: '2026-01-01T00:00:00.000Z',
  token: 'reporting',
  kind: 'saved',
  query: 'sessions',
  sqlHash: 'a'.repeat(64),
  status: 'ok',
  durationMs: n,
  rows: n,
  scannedBytes: 10,
  cache: 'miss',
});

describe('audit log', () => {
  const dir = mkdtempSync(join(tmpdir(), 'audit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('appends one JSON line per record, creating the directory, and keeps the latest in memory', async () => {
    const path = join(dir, 'nested', 'audit.ndjson');
    const errors: number[] = [];
    const audit = createAuditLog({ target: path, log: pino({ level: 'silent' }), onError: () => errors.push(1), recentLimit: 2 });
    await audit.start?.();
    for (const n of [1, 2, 3]) audit.write(record(n));
    await audit.stop?.();
    const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    expect(lines.map((l) => l.rows)).toEqual([1, 2, 3]);
    expect(audit.recent(10).map((r) => r.rows)).toEqual([2, 3]);
    expect(errors).toEqual([]);
  });

  it('counts a write without a sink as an error instead of failing the query', () => {
    let errors = 0;
    const audit = createAuditLog({ target: join(dir, 'never-started.ndjson'), log: pino({ level: 'silent' }), onError: () => errors++ });
    expect(() => audit.write(record(1))).not.toThrow();
    expect(errors).toBe(1);
  });
});
