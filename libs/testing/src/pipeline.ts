import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { createKafka } from '@pipeline/kafka';
import { createTrino, queryAll } from '@pipeline/lake';
import { withChartHeapLimit } from './chart-resources';
import { uniqueName } from './names';
import { deleteSubjects } from './registry';
import { freePort, NodeProcess, type ExitStatus } from './processes';
import { stackSettings } from './stack';

/** The four apps in start order: each app's input topics exist once the app before it is ready. */
export const PIPELINE_APPS = ['query-api', 'producer', 'stream-processor', 'compactor'] as const;
export type PipelineApp = (typeof PIPELINE_APPS)[number];

const REPO_ROOT = resolve(__dirname, '../../..');

/** How long `destroy` lets the apps shut down cleanly before it kills them. */
const DESTROY_GRACE_MS = 15_000;

/** Where the built apps are: `dist/apps`, or `PIPELINE_APPS_DIR` (bundles built elsewhere, e.g. a copy no build rewrites mid-run). */
function appsDir(): string {
  return resolve(REPO_ROOT, process.env['PIPELINE_APPS_DIR'] ?? join('dist', 'apps'));
}

/**
 * Starts one built app (dist/apps/<app>/main.cjs) on 127.0.0.1:`port` with `env` (the whole
 * environment it gets, plus HTTP_HOST and HTTP_PORT) and resolves once its /readyz answers 200.
 */
export async function startBuiltApp(
  app: PipelineApp,
  opts: { port: number; env: NodeJS.ProcessEnv; logFile?: string; readyTimeoutMs?: number },
): Promise<NodeProcess> {
  const script = join(appsDir(), app, 'main.cjs');
  if (!existsSync(script)) throw new Error(`${script} is missing: build it first (npx nx run ${app}:build)`);
  const url = `http://127.0.0.1:${opts.port}`;
  return NodeProcess.start({
    name: app,
    script,
    env: { ...opts.env, HTTP_HOST: '127.0.0.1', HTTP_PORT: String(opts.port) },
    // As under `npm start`: paths in the apps' defaults (the query API's development token file) are relative to it.
    cwd: REPO_ROOT,
    ...(opts.logFile === undefined ? {} : { logFile: opts.logFile }),
    ready: async () => (await fetch(`${url}/readyz`)).ok,
    ...(opts.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: opts.readyTimeoutMs }),
  });
}

/** Names of everything one pipeline run owns: topics, groups, registry subjects and the lake namespace. */
export interface PipelineNames {
  id: string;
  rawTopic: string;
  cleanTopic: string;
  dlqTopic: string;
  lateTopic: string;
  aggTopicPrefix: string;
  applicationId: string;
  compactorGroup: string;
  subjectPrefix: string;
  /** Trino schema (Iceberg namespace) of the run's tables. */
  namespace: string;
}

export function pipelineNames(prefix: string): PipelineNames {
  const id = uniqueName(prefix);
  return {
    id,
    rawTopic: `${id}.raw`,
    cleanTopic: `${id}.clean`,
    dlqTopic: `${id}.dlq`,
    lateTopic: `${id}.late`,
    aggTopicPrefix: `${id}.agg.`,
    applicationId: `${id}-processor`,
    compactorGroup: `${id}-compactor`,
    subjectPrefix: `${id}.`,
    namespace: id,
  };
}

export interface PipelineOptions {
  /** Prefix of the run's unique names. */
  name: string;
  /** Env given to every app (after the isolation settings, so it can override them). */
  env?: Record<string, string>;
  /** Env of one app (wins over `env`). */
  appEnv?: Partial<Record<PipelineApp, Record<string, string>>>;
  /** Apps to start (default: all four). */
  apps?: readonly PipelineApp[];
  /** Where each app's log goes (default tmp/pipeline/<id>). */
  logDir?: string;
  /** Partitions of the topics the apps create. */
  partitions?: number;
  /**
   * Use the local stack's public development credentials, as `npm start` does: the collector keeps
   * its default write key and the query API runs with NODE_ENV=development and no token list, so
   * its development token applies (scopes sql and saved, default rate limits).
   */
  localDevCredentials?: boolean;
}

/** The collector's default write key (apps/producer/src/config.ts, LOCAL_DEV_WRITE_KEY). */
export const LOCAL_DEV_WRITE_KEY = 'local-dev-write-key';
/** The query API's development token (apps/query-api/config/tokens.development.yaml). */
export const LOCAL_DEV_QUERY_TOKEN = 'qapi_local_development_only';

/** sha256 hex, the form write keys and API tokens are configured in. */
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/**
 * The four built apps (dist/apps/<app>/main.cjs) as child processes on the real stack, isolated from
 * everything else on it: own topics, consumer groups, transactional ids, registry subjects, spool
 * and lake namespace. Apps keep their port across restarts, so URLs stay valid after a kill.
 */
export class Pipeline {
  readonly writeKey: string;
  readonly queryToken: string;
  readonly logDir: string;
  private readonly ports = new Map<PipelineApp, number>();
  private readonly procs = new Map<PipelineApp, NodeProcess>();
  private readonly envs = new Map<PipelineApp, NodeJS.ProcessEnv>();

  private constructor(
    readonly names: PipelineNames,
    private readonly opts: PipelineOptions,
  ) {
    this.writeKey = opts.localDevCredentials ? LOCAL_DEV_WRITE_KEY : `wk_${names.id}`;
    this.queryToken = opts.localDevCredentials ? LOCAL_DEV_QUERY_TOKEN : `qapi_${names.id}`;
    this.logDir = opts.logDir ?? join(REPO_ROOT, 'tmp', 'pipeline', names.id);
    mkdirSync(this.logDir, { recursive: true });
  }

  /** Starts the apps and waits until each answers /readyz. */
  static async start(opts: PipelineOptions): Promise<Pipeline> {
    const pipeline = new Pipeline(pipelineNames(opts.name), opts);
    try {
      for (const app of opts.apps ?? PIPELINE_APPS) await pipeline.startApp(app);
    } catch (err) {
      await pipeline.stop('SIGKILL');
      throw err;
    }
    return pipeline;
  }

  url(app: PipelineApp): string {
    const port = this.ports.get(app);
    if (port === undefined) throw new Error(`${app} was never started`);
    return `http://127.0.0.1:${port}`;
  }

  process(app: PipelineApp): NodeProcess {
    const proc = this.procs.get(app);
    if (!proc) throw new Error(`${app} was never started`);
    return proc;
  }

  /** The app's settings: isolation first, then the caller's. */
  envOf(app: PipelineApp): NodeJS.ProcessEnv {
    const cached = this.envs.get(app);
    if (cached) return cached;
    const n = this.names;
    const partitions = String(this.opts.partitions ?? 3);
    const own: Record<PipelineApp, Record<string, string>> = {
      producer: {
        EVENTS_TOPIC: n.rawTopic,
        DLQ_TOPIC: n.dlqTopic,
        SCHEMA_SUBJECT_PREFIX: n.subjectPrefix,
        SPOOL_DIR: join(this.logDir, 'producer-spool'),
        TOPIC_PARTITIONS: partitions,
        ...(this.opts.localDevCredentials
          ? {}
          : { WRITE_KEYS: JSON.stringify([{ source: 'pipeline-test', sha256: sha256(this.writeKey), rate_per_sec: 1_000_000, burst: 1_000_000 }]) }),
        SCHEMA_REFRESH_MS: '1000',
        SCHEMA_MISS_TTL_MS: '500',
      },
      'stream-processor': {
        APPLICATION_ID: n.applicationId,
        RAW_TOPIC: n.rawTopic,
        CLEAN_TOPIC: n.cleanTopic,
        DLQ_TOPIC: n.dlqTopic,
        LATE_TOPIC: n.lateTopic,
        AGGREGATE_TOPIC_PREFIX: n.aggTopicPrefix,
        SCHEMA_SUBJECT_PREFIX: n.subjectPrefix,
        TOPIC_PARTITIONS: partitions,
        CONSUMER_SESSION_TIMEOUT_MS: '10000',
      },
      compactor: {
        EVENTS_TOPIC: n.cleanTopic,
        AGG_TOPIC_PREFIX: n.aggTopicPrefix,
        DLQ_TOPIC: n.dlqTopic,
        LATE_TOPIC: n.lateTopic,
        GROUP_ID: n.compactorGroup,
        LAKE_SCHEMA: n.namespace,
        KAFKA_SESSION_TIMEOUT_MS: '10000',
      },
      'query-api': {
        TRINO_SCHEMA: n.namespace,
        CATALOG_SCHEMAS: n.namespace,
        ...(this.opts.localDevCredentials
          ? { NODE_ENV: 'development' }
          : { QUERY_API_TOKENS: JSON.stringify([{ name: 'pipeline-test', sha256: sha256(this.queryToken), scopes: ['sql', 'saved', 'admin'], ratePerMinute: 100_000, maxConcurrent: 8 }]) }),
        AUDIT_LOG: join(this.logDir, 'query-api-audit.ndjson'),
      },
    };
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      ...own[app],
      ...this.opts.env,
      ...this.opts.appEnv?.[app],
      HTTP_HOST: '127.0.0.1',
    };
    // The heap limit of the app's pod in the Helm chart, so memory behaves as deployed.
    const nodeOptions = withChartHeapLimit(app, env['NODE_OPTIONS']);
    if (nodeOptions !== undefined) env['NODE_OPTIONS'] = nodeOptions;
    if (this.opts.localDevCredentials) {
      // The defaults must apply, whatever the test runner's own environment holds.
      const configured = app === 'producer' ? ['WRITE_KEYS'] : app === 'query-api' ? ['QUERY_API_TOKENS', 'QUERY_API_TOKENS_FILE'] : [];
      for (const name of configured) if (this.opts.env?.[name] === undefined && this.opts.appEnv?.[app]?.[name] === undefined) delete env[name];
    }
    this.envs.set(app, env);
    return env;
  }

  /** Starts (or restarts) one app on its port and waits for /readyz. */
  async startApp(app: PipelineApp, readyTimeoutMs = 90_000): Promise<NodeProcess> {
    const running = this.procs.get(app);
    if (running?.running) throw new Error(`${app} is already running (pid ${running.pid})`);
    let port = this.ports.get(app);
    if (port === undefined) {
      port = await freePort();
      this.ports.set(app, port);
    }
    const proc = await startBuiltApp(app, { port, env: this.envOf(app), logFile: join(this.logDir, `${app}.log`), readyTimeoutMs });
    this.procs.set(app, proc);
    return proc;
  }

  /** Sends a signal to one app and waits for it to exit (SIGKILL for a crash, SIGTERM for a clean stop). */
  async kill(app: PipelineApp, signal: NodeJS.Signals = 'SIGKILL'): Promise<ExitStatus> {
    return this.process(app).stop(signal);
  }

  async restart(app: PipelineApp, signal: NodeJS.Signals = 'SIGKILL'): Promise<NodeProcess> {
    await this.kill(app, signal);
    return this.startApp(app);
  }

  async metrics(app: PipelineApp): Promise<string> {
    return (await fetch(`${this.url(app)}/metrics`)).text();
  }

  /** Resident set size of every running app, in MB. */
  rss(): Partial<Record<PipelineApp, number>> {
    const out: Partial<Record<PipelineApp, number>> = {};
    for (const [app, proc] of this.procs) {
      const mb = proc.rssMb();
      if (mb !== undefined) out[app] = mb;
    }
    return out;
  }

  /** Pid of every running app. */
  pids(): Partial<Record<PipelineApp, number>> {
    const out: Partial<Record<PipelineApp, number>> = {};
    for (const [app, proc] of this.procs) if (proc.running) out[app] = proc.pid;
    return out;
  }

  /** Stops every app: upstream first, so what was accepted drains downstream as far as it can. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    for (const app of ['producer', 'stream-processor', 'compactor', 'query-api'] as const) {
      const proc = this.procs.get(app);
      if (proc?.running) await proc.stop(signal);
    }
  }

  /** Drops what the run created on the stack: topics, consumer groups, registry subjects, tables and namespace. */
  async destroy(): Promise<void> {
    // SIGTERM first, all at once: the consumers leave their groups, so the groups can be deleted
    // (the broker refuses while a killed member's session lasts). SIGKILL after the grace period.
    await Promise.all([...this.procs.values()].filter((proc) => proc.running).map((proc) => proc.stop('SIGTERM', DESTROY_GRACE_MS)));
    const settings = stackSettings();
    const n = this.names;
    const trino = createTrino(settings);
    const tables = await queryAll(trino, `SHOW TABLES FROM lake.${n.namespace}`).catch(() => ({ rows: [] as unknown[][] }));
    for (const [t] of tables.rows) await queryAll(trino, `DROP TABLE IF EXISTS lake.${n.namespace}."${String(t)}"`).catch(() => undefined);
    await queryAll(trino, `DROP SCHEMA IF EXISTS lake.${n.namespace}`).catch(() => undefined);
    const kafka = createKafka(settings, { clientId: `${n.id}-cleanup`, log: pino({ level: 'silent' }) });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(n.id));
      if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
      const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(n.id));
      if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
    } finally {
      await admin.disconnect();
    }
    await deleteSubjects(settings.SCHEMA_REGISTRY_URL, n.subjectPrefix);
  }

  /** Registers a JSON Schema for an event type under the run's subject prefix; returns its id. */
  async registerSchema(eventType: string, schema: object): Promise<number> {
    const settings = stackSettings();
    const res = await fetch(`${settings.SCHEMA_REGISTRY_URL}/subjects/${encodeURIComponent(this.names.subjectPrefix + eventType)}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schemaType: 'JSON', schema: JSON.stringify(schema) }),
    });
    if (!res.ok) throw new Error(`registering ${eventType}: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { id: number }).id;
  }
}
