import pino from 'pino';
import { Registry } from 'prom-client';
import { PipelineError } from '@pipeline/runtime';
import { createAuditLog, type AuditRecord } from '../audit/audit-log';
import { TokenLimits } from '../auth/limits';
import type { Principal } from '../auth/tokens';
import { createQueryApiMetrics } from '../metrics';
import type { RunningStatement, TrinoClient, TrinoPage } from '../trino/client';
import { QueryService, type QueryRequest } from './query-service';
import { ResultStore } from './result-store';

const columns = [{ name: 'n', type: 'bigint', typeSignature: { rawType: 'bigint' } }];

/**
 * A fake Trino: each statement yields the scripted pages; `hang` never ends until cancelled;
 * `hang-request` never answers the submit, which rejects with the signal's reason once it aborts,
 * as fetch does.
 */
function fakeTrino(pages: (sql: string) => TrinoPage[] | 'hang' | 'hang-request') {
  const submitted: string[] = [];
  const cancelled: string[] = [];
  const client: TrinoClient = {
    user: 'reader',
    async submit(sql, opts) {
      submitted.push(sql);
      const id = `q${submitted.length}`;
      const script = pages(sql);
      if (script === 'hang-request') {
        return new Promise<never>((_resolve, reject) => {
          const signal = opts?.signal;
          if (signal?.aborted) reject(signal.reason);
          else signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
        });
      }
      let stopped = false;
      const statement: RunningStatement = {
        id,
        stats: { state: 'FINISHED', physicalInputBytes: 7 },
        async cancel() {
          if (!stopped) cancelled.push(id);
          stopped = true;
        },
        async *[Symbol.asyncIterator]() {
          try {
            if (script === 'hang') {
              yield { columns, bytes: 10 };
              await new Promise((_resolve, reject) => {
                const abort = () => reject(new PipelineError('aborted', 'aborted'));
                if (opts?.signal?.aborted) abort();
                else opts?.signal?.addEventListener('abort', abort, { once: true });
              });
              return;
            }
            for (const page of script) yield page;
            stopped = true;
          } finally {
            if (!stopped) await statement.cancel();
          }
        },
      };
      return statement;
    },
  };
  return { client, submitted, cancelled };
}

const principal: Principal = { name: 'reporting', scopes: new Set(['sql']), ratePerMinute: 100, maxConcurrent: 1 };

function setup(pages: (sql: string) => TrinoPage[] | 'hang' | 'hang-request', maxResultBytes = 1_000_000) {
  let now = 1_000_000;
  const trino = fakeTrino(pages);
  const audit = createAuditLog({ target: 'stdout', log: pino({ level: 'silent' }), onError: () => undefined });
  const records: AuditRecord[] = [];
  const write = audit.write.bind(audit);
  audit.write = (record) => {
    records.push(record);
    write(record);
  };
  const registry = new Registry();
  const service = new QueryService({
    trino: trino.client,
    catalog: 'lake',
    store: new ResultStore({ maxBytes: 1_000_000, maxAgeMs: 3_600_000, cursorTtlMs: 60_000, now: () => now }),
    limits: new TokenLimits(),
    audit,
    metrics: createQueryApiMetrics(registry),
    maxResultBytes,
    now: () => now,
  });
  return { service, trino, records, registry, advance: (ms: number) => (now += ms) };
}

const request = (overrides: Partial<QueryRequest> = {}): QueryRequest => ({
  sql: 'SELECT n FROM t',
  kind: 'adhoc',
  principal,
  schema: 'events',
  maxRows: 100,
  timeoutMs: 5_000,
  maxScanBytes: 1_000,
  cache: { bypass: false, maxAgeSeconds: 60 },
  signal: new AbortController().signal,
  ...overrides,
});

const rows = (from: number, count: number) => Array.from({ length: count }, (_, i) => [from + i]);
const twoPages = (): TrinoPage[] => [
  { columns, bytes: 10 },
  { data: rows(0, 3), bytes: 30 },
  { data: rows(3, 3), bytes: 30, stats: { state: 'RUNNING', physicalInputBytes: 500 } },
];

describe('QueryService', () => {
  it('runs a query, stores the result, and reuses it for an identical query within the age', async () => {
    const { service, trino, records, advance } = setup(twoPages);
    const first = await service.runToResult(request());
    expect(first).toMatchObject({ cache: 'miss', stored: true, result: { rows: rows(0, 6), truncated: false, stats: { rows: 6, scannedBytes: 500 } } });
    advance(30_000);
    const second = await service.runToResult(request());
    expect(second).toMatchObject({ cache: 'hit', ageSeconds: 30, result: { id: first.result.id } });
    advance(31_000);
    expect((await service.runToResult(request())).cache).toBe('miss');
    expect(trino.submitted).toHaveLength(2);
    expect(records.map((r) => [r.status, r.cache, r.rows])).toEqual([
      ['ok', 'miss', 6],
      ['ok', 'hit', 6],
      ['ok', 'miss', 6],
    ]);
    expect(records[0]).toMatchObject({ token: 'reporting', kind: 'adhoc', sqlHash: expect.stringMatching(/^[0-9a-f]{64}$/), scannedBytes: 500, trinoQueryId: 'q1' });
  });

  it('runs the query again when asked to bypass the cache', async () => {
    const { service, trino } = setup(twoPages);
    await service.runToResult(request());
    expect((await service.runToResult(request({ cache: { bypass: true, maxAgeSeconds: 60 } }))).cache).toBe('bypass');
    expect(trino.submitted).toHaveLength(2);
  });

  it('does not reuse a result across schemas or row limits', async () => {
    const { service, trino } = setup(twoPages);
    await service.runToResult(request());
    await service.runToResult(request({ schema: 'other' }));
    await service.runToResult(request({ maxRows: 5 }));
    expect(trino.submitted).toHaveLength(3);
  });

  it('stops at maxRows, marks the result truncated and cancels the query in Trino', async () => {
    const { service, trino } = setup(twoPages);
    const { result } = await service.runToResult(request({ maxRows: 4 }));
    expect(result.rows).toEqual(rows(0, 4));
    expect(result.truncated).toBe(true);
    expect(trino.cancelled).toEqual(['q1']);
  });

  it('cancels a query that reads more than maxScanBytes and answers 422', async () => {
    const { service, trino, records } = setup(twoPages);
    await expect(service.runToResult(request({ maxScanBytes: 100 }))).rejects.toMatchObject({ status: 422, code: 'scan_limit_exceeded' });
    expect(trino.cancelled).toEqual(['q1']);
    expect(records[0]?.status).toBe('scan_limit_exceeded');
  });

  it('cancels a query that outlives its time limit and answers 504', async () => {
    const { service, trino, records } = setup(() => 'hang');
    await expect(service.runToResult(request({ timeoutMs: 50 }))).rejects.toMatchObject({ status: 504, code: 'timeout' });
    expect(trino.cancelled).toEqual(['q1']);
    expect(records[0]?.status).toBe('timeout');
  });

  it('answers 504, not 500, when the time limit passes during a request to Trino', async () => {
    const { service, records } = setup(() => 'hang-request');
    await expect(service.runToResult(request({ timeoutMs: 50 }))).rejects.toMatchObject({ status: 504, code: 'timeout' });
    expect(records[0]?.status).toBe('timeout');
  });

  it('records a client that goes away during a request to Trino as client_closed', async () => {
    const { service, records } = setup(() => 'hang-request');
    const client = new AbortController();
    const running = service.runToResult(request({ signal: client.signal }));
    setTimeout(() => client.abort(), 20);
    await expect(running).rejects.toMatchObject({ code: 'client_closed' });
    expect(records[0]?.status).toBe('client_closed');
  });

  it('cancels the query when the client goes away', async () => {
    const { service, trino, records } = setup(() => 'hang');
    const client = new AbortController();
    const running = service.runToResult(request({ signal: client.signal }));
    setTimeout(() => client.abort(), 20);
    await expect(running).rejects.toMatchObject({ code: 'client_closed' });
    expect(trino.cancelled).toEqual(['q1']);
    expect(records[0]?.status).toBe('client_closed');
  });

  it("refuses a token's query beyond its concurrency, and frees the slot when a query ends", async () => {
    const { service, trino } = setup((sql) => (sql === 'slow' ? 'hang' : twoPages()));
    const client = new AbortController();
    const slow = service.runToResult(request({ sql: 'slow', signal: client.signal })).catch((e: unknown) => e);
    while (trino.submitted.length === 0) await new Promise((r) => setTimeout(r, 5));
    await expect(service.runToResult(request())).rejects.toMatchObject({ status: 429, code: 'too_many_concurrent_queries' });
    client.abort();
    await slow;
    await expect(service.runToResult(request())).resolves.toMatchObject({ cache: 'miss' });
  });

  it('answers 422 when a JSON result outgrows memory, but streams it whole without storing it', async () => {
    const { service } = setup(twoPages, 50);
    await expect(service.runToResult(request())).rejects.toMatchObject({ status: 422, code: 'result_too_large' });
    const streamed: unknown[][] = [];
    for await (const event of service.stream(request())) if (event.type === 'rows') streamed.push(...event.rows);
    expect(streamed).toEqual(rows(0, 6));
    const again = service.stream(request());
    expect((await again.next()).value).toMatchObject({ type: 'start', cache: 'miss' });
    await again.return(undefined);
  });

  it('counts queries by kind, status and cache use (identical SQL is reused whatever the kind)', async () => {
    const { service, registry } = setup(twoPages);
    await service.runToResult(request());
    await service.runToResult(request({ kind: 'saved', savedQuery: 'x' }));
    const metrics = await registry.getSingleMetricAsString('pipeline_query_api_queries_total');
    expect(metrics).toContain('pipeline_query_api_queries_total{kind="adhoc",status="ok",cache="miss"} 1');
    expect(metrics).toContain('pipeline_query_api_queries_total{kind="saved",status="ok",cache="hit"} 1');
  });
});
