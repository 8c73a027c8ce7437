import { connect } from 'node:net';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { createMetricsRegistry } from './metrics';
import { createHttpApp } from './ops-server';
import { Readiness } from './readiness';

/** Writes raw bytes on a fresh connection and returns everything the server sent until it closed. */
function exchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let data = '';
    socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
    socket.write(bytes);
  });
}

function answer(raw: string): { status: number; type: string | undefined; body: unknown } {
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  const type = /\r\ncontent-type: ([^\r]+)/i.exec(head)?.[1];
  return { status, type, body: JSON.parse(body) as unknown };
}

describe('HTTP-level refusals (before any route runs)', () => {
  let app: FastifyInstance;
  let port: number;

  beforeAll(async () => {
    app = createHttpApp({
      readiness: new Readiness(),
      registry: createMetricsRegistry('test-app'),
      log: pino({ level: 'silent' }),
      errorBody: ({ status, code, message }) => ({ error: { code, message, status } }),
    });
    app.get('/items/:id', async () => ({ ok: true }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as { port: number }).port;
  });
  afterAll(() => app.close());

  // Regression: these used to come back in Fastify's or Node's own shape ({"error":"Bad Request",...},
  // an empty 417, a dropped CONNECT), which clients keyed on error.code could not read.
  it.each([
    ['a malformed request line', 'FOO\u0001 / HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'bad_request'],
    ['a header line without a colon', 'GET /healthz HTTP/1.1\r\nHost: x\r\nbroken\r\n\r\n', 400, 'bad_request'],
    ['headers over the size limit', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'headers_too_large'],
    ['a bad escape in the URL', 'GET /items/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 400, 'bad_request'],
    ['an Expect other than 100-continue', 'POST /healthz HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nContent-Length: 0\r\nConnection: close\r\n\r\n', 417, 'expectation_failed'],
    ['CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 400, 'bad_request'],
  ])('answers %s with JSON in the app error shape', async (_what, request, status, code) => {
    const res = answer(await exchange(port, request));
    expect(res.status).toBe(status);
    expect(res.type).toMatch(/^application\/json/);
    expect(res.body).toEqual({ error: { code, message: expect.any(String), status } });
  });

  it('answers in { error: { code, message } } when the app gives no shape', async () => {
    const plain = createHttpApp({ readiness: new Readiness(), registry: createMetricsRegistry('plain'), log: pino({ level: 'silent' }) });
    const bad = await plain.inject({ method: 'GET', url: '/%zz' });
    expect([bad.statusCode, bad.json()]).toEqual([400, { error: { code: 'bad_request', message: 'the request URL is malformed' } }]);
    await plain.close();
  });
});
