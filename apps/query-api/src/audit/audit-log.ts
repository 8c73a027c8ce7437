import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { Component, Logger } from '@pipeline/runtime';

/** One audit record per query: who ran what (by hash), how long it took, what it returned. */
export interface AuditRecord {
  time: string;
  token: string;
  kind: 'adhoc' | 'saved';
  /** Name of the saved query, for saved queries. */
  query?: string;
  /** Hex SHA-256 of the SQL text sent to Trino (ad-hoc: as received, when the guard refused it). */
  sqlHash: string;
  /** `ok`, or the API error code of the answer. */
  status: string;
  durationMs: number;
  rows: number;
  scannedBytes: number;
  cache: 'hit' | 'miss' | 'bypass';
  trinoQueryId?: string;
  truncated?: boolean;
}

export interface AuditLog extends Component {
  write(record: AuditRecord): void;
  /** The most recent records, newest last (at most `recentLimit`). */
  recent(limit: number): AuditRecord[];
}

/**
 * An append-only JSON-lines audit log, to a file or stdout, kept apart from the service's logs.
 * Writes are buffered by the stream and flushed on stop; a failing sink counts errors and reports
 * the first one, it never fails a query.
 */
export function createAuditLog(opts: { target: string; log: Logger; onError: () => void; recentLimit?: number }): AuditLog {
  const recentLimit = opts.recentLimit ?? 1000;
  const recent: AuditRecord[] = [];
  let stream: WriteStream | NodeJS.WritableStream | undefined;
  let reported = false;
  const fail = (err: unknown) => {
    opts.onError();
    if (!reported) {
      reported = true;
      opts.log.error({ err, target: opts.target }, 'audit log write failed');
    }
  };

  return {
    name: 'audit-log',
    start: async () => {
      if (opts.target === 'stdout') {
        stream = process.stdout;
        return;
      }
      mkdirSync(dirname(opts.target), { recursive: true });
      const file = createWriteStream(opts.target, { flags: 'a' });
      file.on('error', fail);
      await new Promise<void>((resolve, reject) => {
        file.once('open', () => resolve());
        file.once('error', reject);
      });
      stream = file;
    },
    write(record) {
      recent.push(record);
      if (recent.length > recentLimit) recent.splice(0, recent.length - recentLimit);
      if (!stream) return fail(new Error('audit log not started'));
      try {
        stream.write(`${JSON.stringify(record)}\n`);
      } catch (err) {
        fail(err);
      }
    },
    recent: (limit) => recent.slice(-limit),
    stop: async () => {
      const s = stream;
      stream = undefined;
      if (s && s !== process.stdout) await new Promise<void>((resolve) => (s as WriteStream).end(() => resolve()));
    },
  };
}
