import { connect } from 'node:net';

/**
 * One HTTP/1.1 request written byte for byte, so a test can send what `fetch` refuses to: any
 * method, bytes above 0x7f in header values, a Content-Length that lies, a cut body, broken chunked
 * framing. Each request uses its own connection with `Connection: close`.
 */
export interface RawRequest {
  method: string;
  /** Request target as written on the request line (not encoded or checked). */
  path: string;
  /** Header lines in order; values are written as latin1 bytes. Host and Connection are added. */
  headers?: ReadonlyArray<readonly [string, string]>;
  body?: Buffer;
  /** Content-Length to declare: the body's length by default, `'none'` for no header (e.g. with chunked framing). */
  contentLength?: number | 'none';
  /** Send only this many bytes of the body, then close the write side (a client that gave up). */
  sendBytes?: number;
}

export interface RawResponse {
  status: number;
  /** Lower-case names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  body: Buffer;
}

export type RawOutcome =
  | { kind: 'response'; response: RawResponse; elapsedMs: number }
  /** The server closed (or reset) the connection without a complete response; `head` when its status line and headers came. */
  | { kind: 'closed'; received: number; elapsedMs: number; head?: Omit<RawResponse, 'body'> }
  | { kind: 'timeout'; received: number; elapsedMs: number };

/** Builds the request bytes of `request` for `host`. */
export function encodeRawRequest(host: string, request: RawRequest): Buffer {
  const body = request.body ?? Buffer.alloc(0);
  const lines = [`${request.method} ${request.path} HTTP/1.1`, `Host: ${host}`, 'Connection: close'];
  for (const [name, value] of request.headers ?? []) lines.push(`${name}: ${value}`);
  const length = request.contentLength ?? body.length;
  if (length !== 'none' && (request.body !== undefined || request.contentLength !== undefined)) lines.push(`Content-Length: ${length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return Buffer.concat([head, request.sendBytes === undefined ? body : body.subarray(0, request.sendBytes)]);
}

/**
 * Sends `request` to `baseUrl` (`http://host:port`) and reads until the server closes. Resolves with
 * the parsed response, `closed` when there was none, or `timeout` after `timeoutMs`. Never rejects
 * on network errors: a reset after a complete response still yields the response.
 */
export function rawHttp(baseUrl: string, request: RawRequest, timeoutMs = 15_000): Promise<RawOutcome> {
  const url = new URL(baseUrl);
  const started = Date.now();
  const bytes = encodeRawRequest(url.host, request);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    const finish = (timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const elapsedMs = Date.now() - started;
      const data = Buffer.concat(chunks);
      const response = parseRawResponse(data, request.method === 'HEAD');
      if (response) return resolve({ kind: 'response', response, elapsedMs });
      if (timedOut) return resolve({ kind: 'timeout', received, elapsedMs });
      const head = parseRawResponse(data, true);
      resolve(head ? { kind: 'closed', received, elapsedMs, head: { status: head.status, headers: head.headers } } : { kind: 'closed', received, elapsedMs });
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
    });
    socket.on('end', () => finish(false));
    socket.on('close', () => finish(false));
    socket.on('error', () => finish(false));
    socket.on('connect', () => {
      socket.write(bytes, () => {
        if (request.sendBytes !== undefined) socket.end();
      });
    });
  });
}

/**
 * Parses a complete HTTP/1.1 response (Content-Length, chunked or until close); undefined when
 * incomplete or not HTTP. `headRequest`: the answer to HEAD has headers only.
 */
export function parseRawResponse(data: Buffer, headRequest = false): RawResponse | undefined {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const [statusLine, ...headerLines] = data.subarray(0, headEnd).toString('latin1').split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '');
  if (!match) return undefined;
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const status = Number(match[1]);
  const rest = data.subarray(headEnd + 4);
  // An interim answer (100 Continue) comes before the real one.
  if (status >= 100 && status < 200) return parseRawResponse(rest, headRequest);
  if (headRequest || status === 204 || status === 304) return { status, headers, body: Buffer.alloc(0) };
  let body: Buffer | undefined;
  if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) body = decodeChunked(rest);
  else if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    body = Number.isSafeInteger(length) && rest.length >= length ? rest.subarray(0, length) : undefined;
  } else body = rest;
  return body === undefined ? undefined : { status, headers, body };
}

function decodeChunked(data: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', offset);
    if (lineEnd < 0) return undefined;
    const size = parseInt(data.subarray(offset, lineEnd).toString('latin1').split(';')[0] ?? '', 16);
    if (!Number.isFinite(size)) return undefined;
    if (size === 0) return Buffer.concat(parts);
    const start = lineEnd + 2;
    if (data.length < start + size + 2) return undefined;
    parts.push(data.subarray(start, start + size));
    offset = start + size + 2;
  }
}
