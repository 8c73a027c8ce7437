import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CUSTOM_KINDS, chartPolicyProblems, helmLint, helmTemplate, parseManifests, validateManifests, type Manifest } from './k8s';
import { CHART_DIR } from './paths';
import { KUBERNETES_VERSIONS, ensureTools } from './toolchain';

const tools = ensureTools();
const PRODUCTION = join(CHART_DIR, 'ci', 'production-values.yaml');

const VARIANTS = [
  { name: 'default values', valuesFiles: [] as string[], keda: false, serviceMonitor: false },
  { name: 'production-like values', valuesFiles: [PRODUCTION], keda: true, serviceMonitor: true },
];

/** The value, or a test failure naming what was missing. */
function must<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`missing ${what}`);
  return value;
}

const toYaml = (manifests: Manifest[]) => manifests.map((m) => stringify(m)).join('---\n');

describe('Helm chart', () => {
  it.each(VARIANTS.map((v) => [v.name, v] as const))('passes helm lint --strict with %s', (_name, variant) => {
    const res = helmLint(tools, variant.valuesFiles);
    expect(res.output).toContain('0 chart(s) failed');
    expect(res.ok).toBe(true);
  });

  const cases = VARIANTS.flatMap((v) => KUBERNETES_VERSIONS.map((k) => [v.name, k, v] as const));
  it.each(cases)('renders with %s into manifests valid for Kubernetes %s', (_name, kubeVersion, variant) => {
    const yamlText = helmTemplate(tools, { valuesFiles: variant.valuesFiles, kubeVersion });
    const res = validateManifests(tools, yamlText, kubeVersion);
    expect(res.output).toMatch(/Invalid: 0, Errors: 0/);
    expect(res.ok).toBe(true);
  });

  it.each(VARIANTS.map((v) => [v.name, v] as const))('follows the chart rules with %s', (_name, variant) => {
    const manifests = parseManifests(helmTemplate(tools, { valuesFiles: variant.valuesFiles }));
    expect(chartPolicyProblems(manifests, variant)).toEqual([]);
    const kinds = new Set(manifests.map((m) => m.kind));
    if (variant.keda) expect([...kinds]).toEqual(expect.arrayContaining(['ScaledObject', 'ServiceMonitor']));
    else for (const kind of CUSTOM_KINDS) expect(kinds.has(kind)).toBe(false);
  });

  it('references secrets, never embeds them', () => {
    const manifests = parseManifests(helmTemplate(tools, { valuesFiles: [PRODUCTION] }));
    expect(manifests.filter((m) => m.kind === 'Secret')).toEqual([]);
    const compactor = manifests.find((m) => m.kind === 'Deployment' && m.metadata.name.endsWith('-compactor'));
    const env = JSON.stringify(compactor?.spec);
    expect(env).toContain('"name":"S3_SECRET_KEY","valueFrom":{"secretKeyRef":{"name":"pipeline-s3","key":"secretKey"}}');
    expect(env).toContain('"name":"KAFKA_SASL_PASSWORD","valueFrom":{"secretKeyRef"');
  });
});

describe('Helm checks fail on real mistakes', () => {
  const base = () => parseManifests(helmTemplate(tools, { valuesFiles: [PRODUCTION] }));
  const deployment = (manifests: Manifest[], app: string) => {
    const d = manifests.find((m) => m.kind === 'Deployment' && m.metadata.name.endsWith(`-${app}`));
    if (!d) throw new Error(`no Deployment for ${app}`);
    return d.spec as unknown as { template: { spec: { containers: Record<string, unknown>[]; terminationGracePeriodSeconds: number } } };
  };

  it('kubeconform rejects an unknown field (a typo) in a Deployment', () => {
    const manifests = base();
    const container = deployment(manifests, 'producer').template.spec.containers[0] as Record<string, unknown>;
    container['readinessProbes'] = container['readinessProbe'];
    const res = validateManifests(tools, toYaml(manifests), '1.34.0');
    expect(res.ok).toBe(false);
    expect(res.output).toMatch(/additional properties 'readinessProbes' not allowed/);
  });

  it('kubeconform rejects a wrong type (a port as a string)', () => {
    const manifests = base();
    const service = manifests.find((m) => m.kind === 'Service') as Manifest;
    must((service.spec as { ports: { port: unknown }[] }).ports[0], 'a port').port = 'eighty';
    const res = validateManifests(tools, toYaml(manifests), '1.34.0');
    expect(res.ok).toBe(false);
    expect(res.output).toMatch(/got string, want integer/);
  });

  it('kubeconform rejects an API version the cluster does not serve', () => {
    const manifests = base();
    const hpa = manifests.find((m) => m.kind === 'HorizontalPodAutoscaler') as Manifest;
    hpa.apiVersion = 'autoscaling/v2beta1';
    const res = validateManifests(tools, toYaml(manifests), '1.34.0');
    expect(res.ok).toBe(false);
    expect(res.output).toMatch(/could not find schema for HorizontalPodAutoscaler/);
  });

  it('the CRD check rejects a ScaledObject without its target', () => {
    const manifests = base();
    const scaled = manifests.find((m) => m.kind === 'ScaledObject') as Manifest;
    delete (scaled.spec as Record<string, unknown>)['scaleTargetRef'];
    const res = validateManifests(tools, toYaml(manifests), '1.34.0');
    expect(res.ok).toBe(false);
    expect(res.output).toMatch(/ScaledObject .*scaleTargetRef/);
  });

  it('the CRD check rejects a ServiceMonitor endpoint port given as a number', () => {
    const manifests = base();
    const monitor = manifests.find((m) => m.kind === 'ServiceMonitor') as Manifest;
    must((monitor.spec as { endpoints: { port: unknown }[] }).endpoints[0], 'an endpoint').port = 8080;
    const res = validateManifests(tools, toYaml(manifests), '1.34.0');
    expect(res.ok).toBe(false);
    expect(res.output).toMatch(/ServiceMonitor .*port must be string/);
  });

  it('a custom resource without a known schema fails instead of being skipped', () => {
    const res = validateManifests(tools, 'apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n', '1.34.0');
    expect(res.ok).toBe(false);
  });

  it('the chart rules catch a missing readiness probe, a root user, a short grace period and an undeclared env name', () => {
    const manifests = base();
    const producer = deployment(manifests, 'producer');
    const container = producer.template.spec.containers[0] as Record<string, unknown>;
    delete container['readinessProbe'];
    (producer.template.spec as unknown as { securityContext: Record<string, unknown> }).securityContext = { runAsNonRoot: false };
    producer.template.spec.terminationGracePeriodSeconds = 10;
    const cm = manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name.endsWith('-producer')) as Manifest;
    (cm.data as Record<string, string>)['KAFKA_BROKER'] = 'kafka:9092';
    const problems = chartPolicyProblems(manifests, { keda: true, serviceMonitor: true }).join('\n');
    expect(problems).toMatch(/readinessProbe is not an HTTP GET of \/readyz/);
    expect(problems).toMatch(/runAsNonRoot is not true/);
    expect(problems).toMatch(/terminationGracePeriodSeconds 10 s is not above SHUTDOWN_DEADLINE_MS/);
    expect(problems).toMatch(/sets KAFKA_BROKER, which apps\/producer\/src\/config.ts does not declare/);
  });

  it('the chart rules catch a consumer scaled on the wrong topic and a collector without an HPA', () => {
    const manifests = base().filter((m) => !(m.kind === 'HorizontalPodAutoscaler' && m.metadata.name.endsWith('-producer')));
    const scaled = manifests.find((m) => m.kind === 'ScaledObject' && m.metadata.name.endsWith('-compactor')) as Manifest;
    must((scaled.spec as { triggers: { metadata: Record<string, string> }[] }).triggers[0], 'a trigger').metadata['topic'] = 'events.raw';
    const problems = chartPolicyProblems(manifests, { keda: true, serviceMonitor: true }).join('\n');
    expect(problems).toMatch(/producer .*no HorizontalPodAutoscaler on CPU/);
    expect(problems).toMatch(/compactor .*KEDA measures lag of events.raw, the app consumes events.clean/);
  });

  it('every app gets a V8 heap limit below its memory limit, and the rules catch one too large or missing', () => {
    const rendered = base();
    const nodeOptions = (app: string) => (deployment(rendered, app).template.spec.containers[0] as { env: { name: string; value?: string }[] }).env.find((e) => e.name === 'NODE_OPTIONS')?.value;
    expect(['producer', 'stream-processor', 'compactor', 'query-api'].map(nodeOptions)).toEqual([
      '--max-old-space-size=320',
      '--max-old-space-size=512',
      '--max-old-space-size=1536',
      '--max-old-space-size=320',
    ]);
    const tooLarge = parseManifests(helmTemplate(tools, { valuesFiles: [PRODUCTION], set: ['apps.streamProcessor.heapMb=700'] }));
    expect(chartPolicyProblems(tooLarge, { keda: true, serviceMonitor: true }).join('\n')).toMatch(/stream-processor .*heap limit 700 MB is not below 80 % of the memory limit 768Mi/);
    const none = parseManifests(helmTemplate(tools, { valuesFiles: [PRODUCTION], set: ['apps.queryApi.heapMb=null'] }));
    expect(chartPolicyProblems(none, { keda: true, serviceMonitor: true }).join('\n')).toMatch(/query-api .*NODE_OPTIONS sets no --max-old-space-size/);
  });

  it('values.schema.json rejects a config key no app reads and a value outside an enum', () => {
    expect(() => helmTemplate(tools, { set: ['apps.producer.config.LOG_LEVELL=debug'] })).toThrow(/LOG_LEVELL/);
    expect(() => helmTemplate(tools, { set: ['apps.queryApi.config.LOG_LEVEL=loud'] })).toThrow(/LOG_LEVEL/);
    expect(() => helmTemplate(tools, { set: ['kafka.sasl.mechanism=kerberos'] })).toThrow(/mechanism/);
  });

  it('helm lint fails on a template error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chart-'));
    try {
      cpSync(CHART_DIR, dir, { recursive: true });
      writeFileSync(join(dir, 'templates', 'broken.yaml'), '{{- if .Values.keda.enabled }}\nkind: ConfigMap\n');
      const res = helmLint(tools, [], dir);
      expect(res.ok).toBe(false);
      expect(res.output).toMatch(/broken.yaml/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
