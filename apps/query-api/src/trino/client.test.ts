import { PipelineError } from '@pipeline/runtime';
import { TrinoQueryError, createTrinoClient } from './client';

interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** A scripted Trino: answers each request with the next response for its URL. */
function fakeTrino(script: Record<string, Array<{ status?: number; body: unknown } | 'refuse' | 'hang'>>) {
  const calls: Call[] = [];
  const impl = (async (input: string | URL, init: RequestInit = {}) => {
    const url = String(input);
    calls.push({ method: init.method ?? 'GET', url, headers: init.headers as Record<string, string>, ...(typeof init.body === 'string' ? { body: init.body } : {}) });
    if (init.method === 'DELETE') return new Response(null, { status: 204 });
    const next = script[url]?.shift();
    if (!next) throw new Error(`unexpected ${url}`);
    if (next === 'refuse') throw Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    if (next === 'hang') {
      return new Promise<Response>((_resolve, reject) => {
        init.signal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })), { once: true });
      });
    }
    return new Response(typeof next.body === 'string' ? next.body : JSON.stringify(next.body), { status: next.status ?? 200 });
  }) as typeof fetch;
  return { impl, calls };
}

const connection = { url: 'http://trino:8080', user: 'reader', catalog: 'lake', source: 'query-api' };
const columns = [{ name: 'n', type: 'bigint', typeSignature: { rawType: 'bigint' } }];

describe('Trino client', () => {
  it('sends user, catalog, schema, source and session, and follows nextUri through every page', async () => {
    const trino = fakeTrino({
      'http://trino:8080/v1/statement': [{ body: { id: 'q1', nextUri: 'http://trino:8080/v1/statement/queued/q1/1', stats: { state: 'QUEUED' } } }],
      'http://trino:8080/v1/statement/queued/q1/1': [{ body: { id: 'q1', nextUri: 'http://trino:8080/v1/statement/executing/q1/2', columns, stats: { state: 'RUNNING' } } }],
      'http://trino:8080/v1/statement/executing/q1/2': [{ body: '{"id":"q1","nextUri":"http://trino:8080/v1/statement/executing/q1/3","data":[[1],[9007199254740993]],"stats":{"state":"RUNNING","physicalInputBytes":42}}' }],
      'http://trino:8080/v1/statement/executing/q1/3': [{ body: { id: 'q1', stats: { state: 'FINISHED', physicalInputBytes: 100 } } }],
    });
    const client = createTrinoClient(connection, trino.impl);
    const statement = await client.submit('SELECT n FROM t', { schema: 'events', session: { query_max_execution_time: '35s' } });
    const pages = [];
    for await (const page of statement) pages.push(page);
    expect(pages.map((p) => [p.columns?.length ?? 0, p.data ?? []])).toEqual([
      [1, []],
      [0, [[1], [9007199254740993n]]],
    ]);
    expect(statement.stats?.physicalInputBytes).toBe(100);
    expect(trino.calls[0]).toMatchObject({
      method: 'POST',
      body: 'SELECT n FROM t',
      headers: { 'X-Trino-User': 'reader', 'X-Trino-Catalog': 'lake', 'X-Trino-Schema': 'events', 'X-Trino-Source': 'query-api', 'X-Trino-Session': 'query_max_execution_time=35s' },
    });
    expect(trino.calls.filter((c) => c.method === 'DELETE')).toEqual([]);
  });

  it("raises Trino's error with its name, type and position", async () => {
    const error = { message: "line 1:8: Column 'x' cannot be resolved", errorCode: 47, errorName: 'COLUMN_NOT_FOUND', errorType: 'USER_ERROR', errorLocation: { lineNumber: 1, columnNumber: 8 }, failureInfo: { stack: ['secret'] } };
    const trino = fakeTrino({
      'http://trino:8080/v1/statement': [{ body: { id: 'q2', nextUri: 'http://trino:8080/n/1' } }],
      'http://trino:8080/n/1': [{ body: { id: 'q2', error } }],
    });
    const statement = await createTrinoClient(connection, trino.impl).submit('SELECT x');
    const failure = (async () => {
      for await (const _page of statement) void _page;
    })();
    await expect(failure).rejects.toBeInstanceOf(TrinoQueryError);
    await expect(failure).rejects.toMatchObject({ queryId: 'q2', info: { errorName: 'COLUMN_NOT_FOUND', errorLocation: { lineNumber: 1, columnNumber: 8 } } });
  });

  it('retries 503 as the protocol asks, then reports Trino unavailable', async () => {
    const trino = fakeTrino({
      'http://trino:8080/v1/statement': [{ status: 503, body: 'busy' }, { body: { id: 'q3' } }],
    });
    const statement = await createTrinoClient(connection, trino.impl).submit('SELECT 1');
    expect(statement.id).toBe('q3');

    const down = fakeTrino({ 'http://trino:8080/v1/statement': Array.from({ length: 5 }, () => ({ status: 503, body: 'down' })) });
    await expect(createTrinoClient(connection, down.impl).submit('SELECT 1')).rejects.toMatchObject({ code: 'dependency_unavailable' });
  });

  it('reports a refused connection as dependency_unavailable', async () => {
    const trino = fakeTrino({ 'http://trino:8080/v1/statement': ['refuse'] });
    const error = await createTrinoClient(connection, trino.impl).submit('SELECT 1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PipelineError);
    expect(error).toMatchObject({ code: 'dependency_unavailable', retriable: true });
  });

  it('cancels the query with DELETE on nextUri when the consumer stops early', async () => {
    const trino = fakeTrino({
      'http://trino:8080/v1/statement': [{ body: { id: 'q4', nextUri: 'http://trino:8080/n/1', columns, data: [[1]] } }],
    });
    const statement = await createTrinoClient(connection, trino.impl).submit('SELECT 1');
    for await (const _page of statement) break;
    expect(trino.calls.at(-1)).toMatchObject({ method: 'DELETE', url: 'http://trino:8080/n/1' });
  });

  it('cancels the query and fails with aborted when the signal fires mid-request', async () => {
    const trino = fakeTrino({
      'http://trino:8080/v1/statement': [{ body: { id: 'q5', nextUri: 'http://trino:8080/n/1' } }],
      'http://trino:8080/n/1': ['hang'],
    });
    const controller = new AbortController();
    const statement = await createTrinoClient(connection, trino.impl).submit('SELECT 1', { signal: controller.signal });
    const running = (async () => {
      for await (const _page of statement) void _page;
    })();
    setTimeout(() => controller.abort(), 10);
    await expect(running).rejects.toMatchObject({ code: 'aborted' });
    expect(trino.calls.filter((c) => c.method === 'DELETE').map((c) => c.url)).toEqual(['http://trino:8080/n/1']);
  });
});
