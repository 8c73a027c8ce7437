import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import type { Registry } from 'prom-client';
import type { Component } from './lifecycle';
import type { Logger } from './logger';
import { registerOpsRoutes } from './ops-routes';
import type { Readiness } from './readiness';

/** Codes of requests refused at the HTTP layer, before any route runs. */
export type HttpLevelErrorCode = 'bad_request' | 'request_timeout' | 'uri_too_long' | 'expectation_failed' | 'headers_too_large';

/** A request refused at the HTTP layer (malformed request, bad URL escape, headers over the limit, unmet Expect). */
export interface HttpLevelError {
  status: number;
  code: HttpLevelErrorCode;
  message: string;
}

/** Error body of an {@link HttpLevelError}: each app answers in its own error shape. */
export type HttpLevelErrorBody = (error: HttpLevelError) => unknown;

const defaultErrorBody: HttpLevelErrorBody = ({ code, message }) => ({ error: { code, message } });

/** What Node's HTTP parser refused, as an answer (Fastify's default answers in its own shape). */
export function httpLevelError(err: { code?: string }): HttpLevelError {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, code: 'request_timeout', message: 'the request did not arrive in time' };
  if (err.code === 'HPE_HEADER_OVERFLOW') return { status: 431, code: 'headers_too_large', message: 'the request headers are larger than the limit' };
  return { status: 400, code: 'bad_request', message: 'the HTTP request is malformed' };
}

/** Answers on a socket Node's HTTP server has given up on (parse error, CONNECT), then closes it. */
function answerOnSocket(socket: Duplex, body: HttpLevelErrorBody, answer: HttpLevelError, err?: Error): void {
  if (socket.writable) {
    const text = JSON.stringify(body(answer));
    socket.write(
      `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
    );
  }
  socket.destroy(err);
}

/**
 * A Fastify app with `/healthz`, `/readyz` and `/metrics` already routed. Its logger is a child at
 * `warn`, so requests are not logged one by one; failed requests (5xx) still are. Requests refused
 * before routing (malformed HTTP, headers over the limit, bad URL escapes, an `Expect` other than
 * 100-continue, CONNECT) are answered with `deps.errorBody` as JSON, not in Fastify's or Node's own shape.
 */
export function createHttpApp(
  deps: { readiness: Readiness; registry: Registry; log: Logger; errorBody?: HttpLevelErrorBody },
  options: Omit<FastifyServerOptions, 'logger' | 'loggerInstance' | 'clientErrorHandler' | 'frameworkErrors'> = {},
): FastifyInstance {
  const body = deps.errorBody ?? defaultErrorBody;
  const loggerInstance = deps.log.child({ component: 'http' }, { level: 'warn' }) as FastifyBaseLogger;
  const app = Fastify({
    ...options,
    loggerInstance,
    clientErrorHandler: (err: Error & { code?: string }, socket) => {
      // A reset or already destroyed socket has no one to answer.
      if (err.code !== 'ECONNRESET' && !socket.destroyed) answerOnSocket(socket, body, httpLevelError(err), err);
    },
    frameworkErrors: (err, _request, reply) => {
      const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
      const code: HttpLevelErrorCode = status === 414 ? 'uri_too_long' : 'bad_request';
      const message = status === 414 ? 'a path parameter is longer than the limit' : 'the request URL is malformed';
      void (reply as unknown as FastifyReply).code(status).type('application/json; charset=utf-8').send(JSON.stringify(body({ status, code, message })));
    },
  }) as unknown as FastifyInstance;
  // Without a listener Node drops CONNECT requests without a word.
  app.server.on('connect', (_request, socket: Duplex) => answerOnSocket(socket, body, { status: 400, code: 'bad_request', message: 'the CONNECT method is not supported' }));
  app.server.on('checkExpectation', (_request, response) => {
    const text = JSON.stringify(body({ status: 417, code: 'expectation_failed', message: 'only Expect: 100-continue is supported' }));
    response.writeHead(417, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), connection: 'close' }).end(text);
  });
  registerOpsRoutes(app, deps);
  return app;
}

/** The HTTP surface of a worker app that has no API of its own: health, readiness and metrics. */
export function createOpsServer(deps: { readiness: Readiness; registry: Registry; log: Logger }): FastifyInstance {
  return createHttpApp(deps);
}

/** A lifecycle component that listens on `host:port` and closes (draining requests) on stop. */
export function httpComponent(app: FastifyInstance, opts: { host: string; port: number }): Component {
  return {
    name: 'http',
    start: async () => {
      await app.listen({ host: opts.host, port: opts.port });
    },
    stop: async () => {
      await app.close();
    },
  };
}
