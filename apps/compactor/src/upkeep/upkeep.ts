import type { Client as S3Client } from 'minio';
import { parseS3Location, quoteLiteral, type JdbcCatalog } from '@pipeline/lake';
import type { Logger } from '@pipeline/runtime';
import type { CompactorMetrics } from '../metrics';
import type { TableManager } from '../tables/table-manager';
import type { TrinoRunner } from '../tables/trino-ddl';
import { dayStartLiteral, durationMs } from './durations';

export const UPKEEP_TASKS = ['optimize', 'expire_snapshots', 'remove_orphan_files', 'retention'] as const;
export type UpkeepTask = (typeof UPKEEP_TASKS)[number];

export interface UpkeepSettings {
  catalogName: string;
  namespace: string;
  eventsTable: string;
  dlqTable: string;
  lateTable: string;
  aggTablePrefix: string;
  optimizeTarget: string;
  snapshotRetention: string;
  orphanRetention: string;
  retentionDays: number;
  intervals: Record<UpkeepTask, number>;
  enabled: boolean;
}

export interface UpkeepDeps {
  settings: UpkeepSettings;
  trino: TrinoRunner;
  catalog: JdbcCatalog;
  tables: TableManager;
  s3: S3Client;
  log: Logger;
  metrics: CompactorMetrics;
  /** Runs `fn` while no flush is in flight (orphan removal must not see a file between upload and commit). */
  exclusive: <T>(fn: () => Promise<T>) => Promise<T>;
  now?: () => number;
}

export interface UpkeepResult {
  task: UpkeepTask;
  tables: string[];
  durationMs: number;
  /** Stale multipart uploads aborted (remove_orphan_files only). */
  abortedUploads?: number;
}

/**
 * The time column that partitions a table by day: events and late events by occurred_at, DLQ
 * records by failed_at, aggregates by window_start.
 */
function timeColumn(settings: UpkeepSettings, table: string): string {
  if (table === settings.eventsTable || table === settings.lateTable) return 'occurred_at';
  return table === settings.dlqTable ? 'failed_at' : 'window_start';
}

/**
 * Table upkeep through Trino's Iceberg procedures, on a schedule and on demand: merge small files
 * of closed (past-day) partitions and rewrite manifests, expire snapshots, remove orphan files
 * (plus stale multipart uploads), and drop partitions past the retention.
 */
export function createUpkeep(deps: UpkeepDeps) {
  const { settings, trino, log, metrics } = deps;
  const now = deps.now ?? Date.now;
  const timers = new Map<UpkeepTask, NodeJS.Timeout>();
  const running = new Map<UpkeepTask, Promise<UpkeepResult>>();

  async function lakeTables(): Promise<string[]> {
    const names = await deps.catalog.listTables(settings.namespace);
    const fixed = new Set([settings.eventsTable, settings.dlqTable, settings.lateTable]);
    return names.filter((n) => fixed.has(n) || n.startsWith(settings.aggTablePrefix));
  }

  async function abortStaleUploads(table: string, olderThanMs: number): Promise<number> {
    const loaded = await deps.tables.load(table);
    if (!loaded) return 0;
    const { bucket, key } = parseS3Location(`${loaded.metadata.location}/`);
    let aborted = 0;
    let keyMarker = '';
    let uploadIdMarker = '';
    for (;;) {
      const page = await deps.s3.listIncompleteUploadsQuery(bucket, key, keyMarker, uploadIdMarker, '');
      for (const upload of page.uploads) {
        if (upload.initiated && now() - upload.initiated.getTime() < olderThanMs) continue;
        await deps.s3.removeIncompleteUpload(bucket, upload.key);
        aborted++;
      }
      if (!page.isTruncated) break;
      keyMarker = page.nextKeyMarker;
      uploadIdMarker = page.nextUploadIdMarker;
    }
    return aborted;
  }

  async function runOn(task: UpkeepTask, table: string): Promise<number> {
    const name = deps.tables.qualifiedName(table);
    switch (task) {
      case 'optimize': {
        // Only closed partitions: today's still receives small files every flush.
        await trino.run(`ALTER TABLE ${name} EXECUTE optimize(file_size_threshold => ${quoteLiteral(settings.optimizeTarget)}) WHERE ${timeColumn(settings, table)} < ${dayStartLiteral(now(), 0)}`);
        // Fast appends add one manifest per commit; this folds them so planning stays cheap.
        await trino.run(`ALTER TABLE ${name} EXECUTE optimize_manifests`);
        return 0;
      }
      case 'expire_snapshots':
        await trino.run(`ALTER TABLE ${name} EXECUTE expire_snapshots(retention_threshold => ${quoteLiteral(settings.snapshotRetention)})`, {
          [`${settings.catalogName}.expire_snapshots_min_retention`]: settings.snapshotRetention,
        });
        return 0;
      case 'remove_orphan_files':
        return deps.exclusive(async () => {
          await trino.run(`ALTER TABLE ${name} EXECUTE remove_orphan_files(retention_threshold => ${quoteLiteral(settings.orphanRetention)})`, {
            [`${settings.catalogName}.remove_orphan_files_min_retention`]: settings.orphanRetention,
          });
          return abortStaleUploads(table, durationMs(settings.orphanRetention));
        });
      case 'retention':
        if (settings.retentionDays <= 0) return 0;
        // Aligned to partition boundaries, so Trino drops whole files (a metadata-only delete).
        await trino.run(`DELETE FROM ${name} WHERE ${timeColumn(settings, table)} < ${dayStartLiteral(now(), settings.retentionDays)}`);
        return 0;
    }
  }

  async function execute(task: UpkeepTask): Promise<UpkeepResult> {
    const started = now();
    const end = metrics.upkeepDuration.startTimer({ task });
    try {
      const tables = await lakeTables();
      let abortedUploads = 0;
      for (const table of tables) abortedUploads += await runOn(task, table);
      metrics.upkeepRuns.inc({ task, outcome: 'ok' });
      metrics.upkeepLastSuccess.set({ task }, now() / 1000);
      return { task, tables, durationMs: now() - started, ...(task === 'remove_orphan_files' ? { abortedUploads } : {}) };
    } catch (err) {
      metrics.upkeepRuns.inc({ task, outcome: 'error' });
      log.warn({ err, task }, 'upkeep task failed; it runs again on its schedule');
      throw err;
    } finally {
      end();
    }
  }

  return {
    /** Runs a task now over every lake table (joins a run already in progress). */
    run(task: UpkeepTask): Promise<UpkeepResult> {
      let p = running.get(task);
      if (!p) {
        p = execute(task).finally(() => running.delete(task));
        running.set(task, p);
      }
      return p;
    },
    start(): void {
      if (!settings.enabled) return;
      for (const task of UPKEEP_TASKS) {
        const every = settings.intervals[task];
        const tick = () => {
          void this.run(task)
            .catch(() => undefined)
            .finally(() => {
              if (!timers.has(task)) return;
              const t = setTimeout(tick, every);
              t.unref();
              timers.set(task, t);
            });
        };
        const first = setTimeout(tick, every);
        first.unref();
        timers.set(task, first);
      }
    },
    async stop(): Promise<void> {
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      await Promise.allSettled([...running.values()]);
    },
  };
}

export type Upkeep = ReturnType<typeof createUpkeep>;
