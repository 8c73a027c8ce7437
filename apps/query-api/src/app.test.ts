import pino from 'pino';
import { Registry } from 'prom-client';
import { buildQueryApiApp } from './app';
import { readConfig } from './config';

function trinoAnswering(status: number, body: unknown): typeof fetch {
  return (async () => new Response(JSON.stringify(body), { status })) as typeof fetch;
}

describe('query-api app', () => {
  it.each([
    ['ready', trinoAnswering(200, { starting: false }), 200],
    ['still starting', trinoAnswering(200, { starting: true }), 503],
    ['failing', trinoAnswering(500, {}), 503],
  ])('with Trino %s answers /readyz %#', async (_label, fetchImpl, status) => {
    const config = { ...readConfig({}), HTTP_PORT: 0, HTTP_HOST: '127.0.0.1' };
    const { http, lifecycle } = buildQueryApiApp({ config, log: pino({ level: 'silent' }), registry: new Registry(), fetch: fetchImpl });
    await lifecycle.start();
    expect((await http.inject('/readyz')).statusCode).toBe(status);
    await lifecycle.stop();
  });
});
