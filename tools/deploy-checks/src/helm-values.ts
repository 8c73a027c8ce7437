import { APPS, MANAGED_ENV, SHARED_ENV, envFields, envSource, sharedGroups, type AppSpec, type EnvField } from './env-model';

export const BLOCK_BEGIN = '# >>> generated from ';
export const BLOCK_END = '# <<< generated';

/** Wraps text into comment lines of at most `width` characters, each starting with `prefix`. */
export function commentLines(text: string, prefix: string, width = 100): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && prefix.length + line.length + 1 + word.length > width) {
      lines.push(prefix + line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(prefix + line);
  return lines;
}

function fieldDoc(field: EnvField): string {
  const parts = [field.description];
  if (field.enumValues) parts.push(`One of: ${field.enumValues.join(', ')}.`);
  if (field.defaultValue === undefined) parts.push('Optional, no default (null leaves it unset).');
  return parts.join(' ');
}

/** The `config:` block of one app in values.yaml: every setting the chart does not fill itself. */
export function renderConfigBlock(app: AppSpec, indent: string): string[] {
  const fields = envFields(app.schema);
  const inner = `${indent}  `;
  const out: string[] = [];
  const shared = fields.filter((f) => envSource(f) === 'shared').map((f) => `${f.name} (${SHARED_ENV[f.name]?.group})`);
  const managed = fields.filter((f) => envSource(f) === 'managed').map((f) => f.name);
  const secrets = fields.filter((f) => envSource(f) === 'secret').map((f) => f.name);
  out.push(...commentLines(`Settings of the ${app.name}, one environment variable each; null leaves the app's default.`, `${indent}# `));
  if (shared.length) out.push(...commentLines(`Filled from the shared blocks above: ${shared.join(', ')}.`, `${indent}# `));
  if (managed.length) out.push(...commentLines(`Set by the chart: ${managed.join(', ')}.`, `${indent}# `));
  if (secrets.length) out.push(...commentLines(`Secrets, set them through secretEnv: ${secrets.join(', ')}.`, `${indent}# `));
  const config = fields.filter((f) => envSource(f) === 'config');
  if (config.length === 0) {
    out.push(`${indent}config: {}`);
    return out;
  }
  out.push(`${indent}config:`);
  for (const field of config) {
    out.push(...commentLines(`-- ${fieldDoc(field)}`, `${inner}# `));
    out.push(`${inner}${field.name}: ${field.defaultValue === undefined ? 'null' : JSON.stringify(field.defaultValue)}`);
  }
  return out;
}

/** Replaces every generated block of values.yaml (between the markers) with what the schemas say now. */
export function renderValuesYaml(current: string): string {
  const lines = current.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const begin = line.indexOf(BLOCK_BEGIN);
    if (begin < 0) {
      out.push(line);
      continue;
    }
    const indent = line.slice(0, begin);
    const source = line.slice(begin + BLOCK_BEGIN.length).split(' ')[0] ?? '';
    const app = APPS.find((a) => source === `apps/${a.name}/src/config.ts`);
    if (!app) throw new Error(`values.yaml: generated block for unknown source ${source}`);
    let end = i + 1;
    while (end < lines.length && !(lines[end] ?? '').trim().startsWith(BLOCK_END)) end++;
    if (end >= lines.length) throw new Error(`values.yaml: the generated block of ${app.name} has no end marker`);
    out.push(line, ...renderConfigBlock(app, indent), lines[end] ?? '');
    i = end;
  }
  const missing = APPS.filter((a) => !out.some((l) => l.includes(`${BLOCK_BEGIN}apps/${a.name}/src/config.ts`)));
  if (missing.length) throw new Error(`values.yaml lacks generated blocks for ${missing.map((a) => a.name).join(', ')}`);
  return out.join('\n');
}

/** files/apps.json: what each app reads, for the templates (which env comes from where). */
export function renderAppsJson(): string {
  const apps = APPS.map((app) => {
    const fields = envFields(app.schema);
    return {
      name: app.name,
      valuesKey: app.valuesKey,
      scaling: app.scaling,
      spool: fields.some((f) => f.name === 'SPOOL_DIR'),
      groups: sharedGroups(fields),
      shared: fields.filter((f) => envSource(f) === 'shared' && !SHARED_ENV[f.name]?.secret).map((f) => f.name),
      secrets: fields.filter((f) => envSource(f) === 'shared' && SHARED_ENV[f.name]?.secret).map((f) => f.name),
      config: fields.filter((f) => envSource(f) === 'config').map((f) => f.name),
    };
  });
  return `${JSON.stringify({ generatedBy: 'npm run deploy:generate', apps }, null, 2)}\n`;
}

type Schema = Record<string, unknown>;
const str = (description: string): Schema => ({ type: 'string', description });
const bool = (description: string): Schema => ({ type: 'boolean', description });
const int = (description: string, minimum = 0): Schema => ({ type: 'integer', minimum, description });
const free = (description: string): Schema => ({ type: 'object', description });
const list = (description: string): Schema => ({ type: 'array', description });
const obj = (properties: Record<string, Schema>, description?: string, required?: string[]): Schema => ({
  type: 'object',
  additionalProperties: false,
  ...(description ? { description } : {}),
  properties,
  ...(required ? { required } : {}),
});

function configSchema(app: AppSpec): Schema {
  const properties: Record<string, Schema> = {};
  for (const field of envFields(app.schema).filter((f) => envSource(f) === 'config')) {
    properties[field.name] = field.enumValues
      ? { description: field.description, enum: [...field.enumValues, ...(field.enumValues.includes('true') ? [true, false] : []), null] }
      : { description: field.description, type: ['string', 'number', 'boolean', 'null'] };
  }
  const blocked = [...Object.keys(SHARED_ENV), ...Object.keys(MANAGED_ENV)];
  return {
    type: 'object',
    description: `Env settings of ${app.name} (generated from apps/${app.name}/src/config.ts). ${blocked.length} names are set by the chart instead.`,
    additionalProperties: false,
    properties,
  };
}

/** values.schema.json: Helm checks values against it on lint, template and install. */
export function renderValuesSchema(): string {
  const secretRef = obj({ name: str('Secret name'), key: str('Key in the Secret') }, undefined, ['name', 'key']);
  const image = obj({ repository: str('Image repository'), tag: str('Image tag'), digest: str('Image digest') });
  const service = obj({ type: { enum: ['ClusterIP', 'NodePort', 'LoadBalancer'] }, port: int('Service port', 1), annotations: free('Service annotations') });
  const apps: Record<string, Schema> = {};
  for (const app of APPS) {
    const common: Record<string, Schema> = {
      enabled: bool(`Run ${app.name}`),
      replicaCount: int('Replicas without autoscaling', 0),
      image,
      service,
      podDisruptionBudget: obj({ enabled: bool('Create a PDB'), maxUnavailable: { type: ['integer', 'string'] } }),
      terminationGracePeriodSeconds: int('Grace period after SIGTERM', 1),
      resources: free('Requests and limits'),
      heapMb: { type: ['integer', 'null'], minimum: 64, description: 'V8 old-space limit in MB (NODE_OPTIONS=--max-old-space-size); null leaves it to Node' },
      podAnnotations: free('Pod annotations'),
      extraEnv: list('Extra EnvVar entries'),
      secretEnv: { type: 'object', additionalProperties: secretRef, description: 'Env variables from Secrets' },
      config: configSchema(app),
    };
    if (app.scaling === 'cpu') {
      common['autoscaling'] = obj({
        enabled: bool('HPA on CPU'),
        minReplicas: int('Fewest replicas', 1),
        maxReplicas: int('Most replicas', 1),
        targetCPUUtilizationPercentage: int('Target CPU %', 1),
      });
    } else {
      common['lagScaling'] = obj({
        minReplicas: int('Fewest replicas', 0),
        maxReplicas: int('Most replicas', 1),
        lagThreshold: int('Lag per replica', 1),
        topic: str('Topic'),
        consumerGroup: str('Consumer group'),
      });
    }
    if (envFields(app.schema).some((f) => f.name === 'SPOOL_DIR')) {
      common['spool'] = obj({ sizeLimit: str('emptyDir size limit'), persistentVolumeClaim: str('Existing PVC') });
    }
    apps[app.valuesKey] = obj(common, app.name, ['enabled', 'config']);
  }
  const schema = obj(
    {
      nameOverride: str('Chart name override'),
      fullnameOverride: str('Full name override'),
      image: obj({ repository: { type: 'string', minLength: 1 }, tag: str('Tag'), digest: { type: 'string', pattern: '^(sha256:[0-9a-f]{64})?$' }, pullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'] } }),
      imagePullSecrets: list('Pull secrets'),
      containerPort: int('Container port', 1),
      spoolMountPath: str('Spool mount path'),
      serviceAccount: obj({ create: bool('Create'), name: str('Name'), annotations: free('Annotations') }),
      podSecurityContext: free('Pod security context'),
      securityContext: free('Container security context'),
      nodeSelector: free('Node selector'),
      tolerations: list('Tolerations'),
      affinity: free('Affinity'),
      spreadAcrossNodes: bool('Topology spread'),
      kafka: obj(
        {
          brokers: { type: 'string', minLength: 1, description: 'KAFKA_BROKERS' },
          ssl: bool('KAFKA_SSL'),
          sasl: obj({ mechanism: { enum: ['', 'plain', 'scram-sha-256', 'scram-sha-512'] }, existingSecret: str('Secret'), usernameKey: str('Key'), passwordKey: str('Key') }),
        },
        'Kafka endpoints',
        ['brokers'],
      ),
      schemaRegistry: obj({ url: { type: 'string', format: 'uri', description: 'SCHEMA_REGISTRY_URL' }, existingSecret: str('Secret'), usernameKey: str('Key'), passwordKey: str('Key') }, 'Registry', ['url']),
      s3: obj(
        {
          endpoint: { type: 'string', format: 'uri', description: 'S3_ENDPOINT' },
          region: str('S3_REGION'),
          bucket: { type: 'string', minLength: 3, description: 'S3_BUCKET' },
          pathStyle: bool('S3_PATH_STYLE'),
          existingSecret: str('Secret'),
          accessKeyKey: str('Key'),
          secretKeyKey: str('Key'),
        },
        'Object store',
        ['endpoint', 'bucket'],
      ),
      trino: obj({ url: { type: 'string', format: 'uri', description: 'TRINO_URL' }, user: str('TRINO_USER'), catalog: str('TRINO_CATALOG'), existingSecret: str('Secret'), passwordKey: str('Key') }, 'Trino', ['url']),
      icebergCatalog: obj({ existingSecret: str('Secret with CATALOG_JDBC_URL'), urlKey: str('Key') }, 'Iceberg JDBC catalog database'),
      metrics: obj({ serviceMonitor: obj({ enabled: bool('ServiceMonitor'), interval: str('Interval'), scrapeTimeout: str('Timeout'), labels: free('Labels') }) }),
      keda: obj({ enabled: bool('KEDA'), pollingInterval: int('Seconds', 1), cooldownPeriod: int('Seconds', 0) }),
      trinoCatalog: obj({ enabled: bool('Catalog ConfigMap') }),
      dashboards: obj({ enabled: bool('Dashboard ConfigMaps'), label: str('Label'), labelValue: str('Value') }),
      apps: obj(apps, 'The four apps', APPS.map((a) => a.valuesKey)),
    },
    'Values of the event-pipeline chart (generated by npm run deploy:generate from tools/deploy-checks/src/helm-values.ts and the apps config schemas)',
  );
  return `${JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...schema }, null, 2)}\n`;
}
