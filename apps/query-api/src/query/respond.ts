import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { ApiError, toApiError } from '../http/api-error';
import { stringifyJsonExact } from '../trino/json';
import type { CacheUse, QueryRequest, QueryService, ResultEvent } from './query-service';
import { encodeCursor, type ResultColumn, type StoredResult } from './result-store';

export type ResultFormat = 'json' | 'ndjson' | 'csv';

export const FORMAT_TYPES: Record<ResultFormat, string> = {
  json: 'application/json; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

/** The answer's format: an explicit `format` wins, then the Accept header; JSON by default. */
export function chooseFormat(explicit: string | undefined, accept: string | undefined): ResultFormat {
  if (explicit === 'json' || explicit === 'ndjson' || explicit === 'csv') return explicit;
  if (explicit !== undefined) throw new ApiError('invalid_request', 'format must be json, ndjson or csv');
  if (!accept) return 'json';
  const wanted = accept
    .split(',')
    .map((part) => {
      const [type, ...params] = part.trim().toLowerCase().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { type: (type ?? '').trim(), q: q ? Number(q.slice(2)) : 1 };
    })
    .filter((w) => w.q > 0)
    .sort((a, b) => b.q - a.q);
  for (const { type } of wanted) {
    if (type === 'application/x-ndjson' || type === 'application/ndjson' || type === 'application/jsonl') return 'ndjson';
    if (type === 'text/csv') return 'csv';
    if (type === 'application/json' || type === 'application/*' || type === '*/*') return 'json';
  }
  throw new ApiError('not_acceptable', 'this endpoint answers application/json, application/x-ndjson or text/csv');
}

export interface CacheRequest {
  maxAgeSeconds?: number | undefined;
  bypass?: boolean | undefined;
}

/** Cache use of a request: the body's `cache` object, else `Cache-Control: no-cache | max-age=N`, else the default age. */
export function cacheOptions(body: CacheRequest | undefined, cacheControl: string | undefined, defaults: { maxAgeSeconds: number; capSeconds: number }) {
  let bypass = body?.bypass ?? false;
  let maxAge = body?.maxAgeSeconds;
  if (cacheControl && body?.bypass === undefined && body?.maxAgeSeconds === undefined) {
    const directives = cacheControl.toLowerCase().split(',').map((d) => d.trim());
    if (directives.includes('no-cache') || directives.includes('no-store')) bypass = true;
    const maxAgeDirective = directives.find((d) => d.startsWith('max-age='));
    if (maxAgeDirective) maxAge = Number(maxAgeDirective.slice(8)) || 0;
  }
  return { bypass, maxAgeSeconds: Math.min(maxAge ?? defaults.maxAgeSeconds, defaults.capSeconds) };
}

/** Aborts when the client goes away before the answer is complete. */
export function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** One page of a stored result, as the JSON answer carries it. */
export function pageBody(result: StoredResult, offset: number, pageSize: number, cache: { status: CacheUse; ageSeconds: number }) {
  const rows = result.rows.slice(offset, offset + pageSize);
  const end = offset + rows.length;
  return {
    queryId: result.queryId,
    columns: result.columns,
    rows,
    offset,
    rowCount: rows.length,
    totalRows: result.rows.length,
    nextCursor: end < result.rows.length ? encodeCursor(result.id, end) : null,
    truncated: result.truncated,
    stats: result.stats,
    cache,
  };
}

/** Runs a query and answers it in the negotiated format (JSON pages, or a stream). */
export async function answerQuery(
  service: QueryService,
  query: QueryRequest,
  opts: { format: ResultFormat; pageSize: number },
  reply: FastifyReply,
): Promise<FastifyReply> {
  if (opts.format === 'json') {
    const { result, cache, ageSeconds, stored } = await service.runToResult(query);
    // A result the store could not keep has no cursor: it is answered whole (it is within the size limit).
    const pageSize = stored ? opts.pageSize : Math.max(result.rows.length, 1);
    cacheHeaders(reply, cache, ageSeconds);
    return reply.type(FORMAT_TYPES.json).send(stringifyJsonExact(pageBody(result, 0, pageSize, { status: cache, ageSeconds })));
  }
  return sendStream(service.stream(query), opts.format, reply);
}

function cacheHeaders(reply: FastifyReply, cache: CacheUse, ageSeconds: number): void {
  reply.header('X-Cache', cache);
  if (cache === 'hit') reply.header('Age', String(ageSeconds));
}

async function sendStream(events: AsyncGenerator<ResultEvent>, format: 'ndjson' | 'csv', reply: FastifyReply): Promise<FastifyReply> {
  // Wait for the columns before answering, so errors Trino reports up front get a real status code.
  const first = await events.next();
  if (first.done || first.value.type !== 'start') throw new ApiError('internal', 'query produced no result set');
  const start = first.value;
  cacheHeaders(reply, start.cache, start.ageSeconds);
  reply.header('X-Query-Id', start.queryId);
  // Header values must be ASCII: escape the rest.
  reply.header('X-Query-Columns', JSON.stringify(start.columns).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  const body = format === 'ndjson' ? ndjson(start, events) : csv(start.columns, events);
  return reply.type(FORMAT_TYPES[format]).send(Readable.from(body));
}

async function* ndjson(start: Extract<ResultEvent, { type: 'start' }>, events: AsyncGenerator<ResultEvent>): AsyncGenerator<string> {
  yield `${stringifyJsonExact({ queryId: start.queryId, columns: start.columns, cache: { status: start.cache, ageSeconds: start.ageSeconds } })}\n`;
  try {
    for await (const event of events) {
      if (event.type === 'rows') yield `${event.rows.map((row) => stringifyJsonExact(row)).join('\n')}\n`;
      else if (event.type === 'end') yield `${stringifyJsonExact({ end: { truncated: event.truncated, stats: event.stats } })}\n`;
    }
  } catch (err) {
    // Headers are gone: the error travels as the last line. A stream without an `end` line is incomplete.
    yield `${JSON.stringify(toApiError(err).body())}\n`;
  }
}

async function* csv(columns: ResultColumn[], events: AsyncGenerator<ResultEvent>): AsyncGenerator<string> {
  yield `${columns.map((c) => csvField(c.name)).join(',')}\r\n`;
  // An error after the header aborts the response: a CSV client sees a broken transfer, never a silently short file.
  for await (const event of events) {
    if (event.type === 'rows') yield event.rows.map((row) => `${row.map(csvField).join(',')}\r\n`).join('');
  }
}

/** One RFC 4180 field: null is empty, nested values are JSON, quoted when needed. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? stringifyJsonExact(value) : String(value);
  return /[",\r\n]/.test(text) || text !== text.trim() || text === '' ? `"${text.replace(/"/g, '""')}"` : text;
}

