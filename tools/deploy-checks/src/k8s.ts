import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { APPS, CONTAINER_PORT, RUNTIME_ENV, envFields } from './env-model';
import { CHART_DIR } from './paths';
import type { Tools } from './toolchain';

export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  [key: string]: unknown;
};

export interface Result {
  ok: boolean;
  output: string;
}

function exec(command: string, args: string[], input?: string): Result & { stdout: string } {
  const res = spawnSync(command, args, { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 });
  if (res.error) throw res.error;
  return { ok: res.status === 0, output: `${res.stdout}${res.stderr}`.trim(), stdout: res.stdout };
}

/** `helm lint --strict` of a chart directory with extra values files. */
export function helmLint(tools: Tools, valuesFiles: string[] = [], chartDir = CHART_DIR, kubeVersion = '1.34.0'): Result {
  return exec(tools.helm, ['lint', '--strict', chartDir, '--kube-version', kubeVersion, ...valuesFiles.flatMap((f) => ['-f', f])]);
}

/** `helm template` of the chart; throws with Helm's message when rendering fails. */
export function helmTemplate(tools: Tools, opts: { valuesFiles?: string[]; set?: string[]; chartDir?: string; kubeVersion?: string } = {}): string {
  const args = ['template', 'pipeline', opts.chartDir ?? CHART_DIR, '--namespace', 'pipeline', '--kube-version', opts.kubeVersion ?? '1.34.0'];
  for (const f of opts.valuesFiles ?? []) args.push('-f', f);
  for (const s of opts.set ?? []) args.push('--set', s);
  const res = exec(tools.helm, args);
  if (!res.ok) throw new Error(`helm template failed:\n${res.output}`);
  return res.stdout;
}

export function parseManifests(yamlText: string): Manifest[] {
  return parseAllDocuments(yamlText)
    .map((doc) => {
      if (doc.errors.length) throw new Error(`rendered YAML does not parse: ${doc.errors.map((e) => e.message).join('; ')}`);
      return doc.toJS() as Manifest | null;
    })
    .filter((m): m is Manifest => m !== null && typeof m === 'object');
}

/** Custom resources the CRD validator (crd-validate.mjs) knows; kubeconform checks every other kind. */
export const CUSTOM_KINDS = ['ScaledObject', 'TriggerAuthentication', 'ServiceMonitor', 'PodMonitor'];

/**
 * Validates built-in kinds with kubeconform against the Kubernetes API JSON schemas (strict:
 * unknown fields fail) and custom resources against their CRD schemas. A kind with no schema is
 * an error, never a skip.
 */
export function validateManifests(tools: Tools, yamlText: string, kubeVersion: string): Result {
  const dir = mkdtempSync(join(tmpdir(), 'deploy-checks-'));
  try {
    const file = join(dir, 'manifests.yaml');
    writeFileSync(file, yamlText);
    const conform = exec(tools.kubeconform, [
      '-strict',
      '-summary',
      '-kubernetes-version', kubeVersion,
      '-skip', CUSTOM_KINDS.join(','),
      '-schema-location', join(tools.kubernetesSchemas, '{{ .NormalizedKubernetesVersion }}-local-strict', '{{ .ResourceKind }}{{ .KindSuffix }}.json'),
      file,
    ]);
    const custom = parseManifests(yamlText).filter((m) => CUSTOM_KINDS.includes(m.kind));
    const crd = exec(process.execPath, [join(__dirname, 'crd-validate.mjs')], JSON.stringify(custom));
    const crdProblems = crd.ok ? (JSON.parse(crd.stdout) as string[]) : [`crd-validate failed: ${crd.output}`];
    const output = [conform.output, ...crdProblems].filter(Boolean).join('\n');
    return { ok: conform.ok && crdProblems.length === 0, output };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type Container = {
  name: string;
  image?: string;
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string } }[];
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; runAsNonRoot?: boolean };
};

type PodSpec = {
  containers: Container[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  terminationGracePeriodSeconds?: number;
};

function matches(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** A Kubernetes memory quantity (Mi, Gi, M, G or bytes) in MiB; undefined when it is not one of those. */
export function memoryMb(quantity: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(Mi|Gi|M|G)?$/.exec(quantity.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  switch (m[2]) {
    case 'Mi':
      return n;
    case 'Gi':
      return n * 1024;
    case 'M':
      return (n * 1e6) / 2 ** 20;
    case 'G':
      return (n * 1e9) / 2 ** 20;
    default:
      return n / 2 ** 20;
  }
}

/**
 * The chart's own rules, on rendered manifests: each enabled app has a Deployment, Service,
 * ConfigMap and PDB that select its pods; probes on /healthz and /readyz; resources; non-root,
 * read-only root file system; env names its config schema declares; a grace period longer than
 * SHUTDOWN_DEADLINE_MS; CPU autoscaling for the collector and query API, lag autoscaling (when on)
 * for the consumers. Returns one line per problem.
 */
export function chartPolicyProblems(manifests: Manifest[], opts: { keda: boolean; serviceMonitor: boolean }): string[] {
  const problems: string[] = [];
  const byKind = (kind: string) => manifests.filter((m) => m.kind === kind);
  const configMaps = new Map(byKind('ConfigMap').map((m) => [m.metadata.name, m.data ?? {}]));
  for (const app of APPS) {
    const deployment = byKind('Deployment').find((d) => d.metadata.labels?.['app.kubernetes.io/component'] === app.name);
    if (!deployment) {
      problems.push(`${app.name}: no Deployment`);
      continue;
    }
    const spec = deployment.spec as { selector?: { matchLabels?: Record<string, string> }; replicas?: number; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
    const podLabels = spec.template.metadata.labels;
    const pod = spec.template.spec;
    const where = `${app.name} (Deployment ${deployment.metadata.name})`;
    if (!matches(spec.selector?.matchLabels, podLabels)) problems.push(`${where}: selector does not match the pod labels`);
    const service = byKind('Service').find((s) => matches((s.spec as { selector?: Record<string, string> }).selector, podLabels));
    if (!service) problems.push(`${where}: no Service selects its pods`);
    const pdb = byKind('PodDisruptionBudget').find((p) => matches((p.spec as { selector?: { matchLabels?: Record<string, string> } }).selector?.matchLabels, podLabels));
    if (!pdb) problems.push(`${where}: no PodDisruptionBudget selects its pods`);
    if (pod.securityContext?.runAsNonRoot !== true) problems.push(`${where}: pod securityContext.runAsNonRoot is not true`);
    if (pod.securityContext?.runAsUser === 0) problems.push(`${where}: runs as uid 0`);

    const container = pod.containers[0];
    if (!container) {
      problems.push(`${where}: no container`);
      continue;
    }
    const httpPort = container.ports?.find((p) => p.name === 'http');
    if (httpPort?.containerPort !== CONTAINER_PORT) problems.push(`${where}: container port "http" is not ${CONTAINER_PORT}`);
    if (container.livenessProbe?.httpGet?.path !== '/healthz') problems.push(`${where}: livenessProbe is not an HTTP GET of /healthz`);
    if (container.readinessProbe?.httpGet?.path !== '/readyz') problems.push(`${where}: readinessProbe is not an HTTP GET of /readyz`);
    if (!container.resources?.requests?.['cpu'] || !container.resources?.requests?.['memory']) problems.push(`${where}: no CPU and memory requests`);
    if (!container.resources?.limits?.['memory']) problems.push(`${where}: no memory limit`);
    else {
      // Node sizes its heap from the container limit (about half) unless told; the chart sets it, below the limit.
      const limitMb = memoryMb(String(container.resources.limits['memory']));
      const heap = /--max-old-space-size=(\d+)/.exec(container.env?.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '');
      if (!heap) problems.push(`${where}: NODE_OPTIONS sets no --max-old-space-size`);
      else if (limitMb === undefined || Number(heap[1]) > 0.8 * limitMb) problems.push(`${where}: heap limit ${heap[1]} MB is not below 80 % of the memory limit ${String(container.resources.limits['memory'])}`);
    }
    if (container.securityContext?.readOnlyRootFilesystem !== true) problems.push(`${where}: root file system is not read-only`);
    if (container.securityContext?.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation is not false`);

    // Env: everything the pod gets must be a setting the app's schema declares.
    const declared = new Set(envFields(app.schema).map((f) => f.name));
    const cmName = container.envFrom?.find((e) => e.configMapRef)?.configMapRef?.name;
    const data = cmName ? configMaps.get(cmName) : undefined;
    if (!data) problems.push(`${where}: its ConfigMap ${cmName ?? '(none)'} is not rendered`);
    const envNames = [...Object.keys(data ?? {}), ...(container.env ?? []).map((e) => e.name)];
    for (const name of envNames) {
      if (!declared.has(name) && !RUNTIME_ENV.has(name)) problems.push(`${where}: sets ${name}, which apps/${app.name}/src/config.ts does not declare`);
    }
    for (const field of envFields(app.schema)) {
      if (field.pointsAtLocalStack && !envNames.includes(field.name)) problems.push(`${where}: ${field.name} is not set, so it would default to the local stack (${field.defaultValue})`);
    }
    for (const e of container.env ?? []) {
      if (/PASSWORD|SECRET/.test(e.name) && e.value !== undefined) problems.push(`${where}: ${e.name} is a plain value; secrets must come from a secretKeyRef`);
    }
    for (const [name, value] of Object.entries(data ?? {})) {
      if (/PASSWORD|SECRET/.test(name) && value) problems.push(`${where}: ${name} is in a ConfigMap; secrets must come from a Secret`);
    }
    const deadline = Number(data?.['SHUTDOWN_DEADLINE_MS'] ?? envFields(app.schema).find((f) => f.name === 'SHUTDOWN_DEADLINE_MS')?.defaultValue ?? 0);
    if ((pod.terminationGracePeriodSeconds ?? 30) * 1000 <= deadline) {
      problems.push(`${where}: terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds ?? 30} s is not above SHUTDOWN_DEADLINE_MS ${deadline} ms`);
    }

    // Scaling.
    const hpa = byKind('HorizontalPodAutoscaler').find((h) => (h.spec as { scaleTargetRef?: { name?: string } }).scaleTargetRef?.name === deployment.metadata.name);
    const scaled = byKind('ScaledObject').find((s) => (s.spec as { scaleTargetRef?: { name?: string } }).scaleTargetRef?.name === deployment.metadata.name);
    if (app.scaling === 'cpu') {
      const metrics = (hpa?.spec as { metrics?: { resource?: { name?: string } }[] } | undefined)?.metrics ?? [];
      if (!metrics.some((m) => m.resource?.name === 'cpu')) problems.push(`${where}: no HorizontalPodAutoscaler on CPU`);
    }
    if (app.scaling === 'lag' && opts.keda) {
      const triggers = (scaled?.spec as { triggers?: { type: string; metadata?: Record<string, string> }[] } | undefined)?.triggers ?? [];
      const kafka = triggers.find((t) => t.type === 'kafka');
      if (!kafka) problems.push(`${where}: no KEDA ScaledObject with a kafka (consumer lag) trigger`);
      else if (kafka.metadata?.['topic'] !== app.lagTopic) problems.push(`${where}: KEDA measures lag of ${kafka.metadata?.['topic']}, the app consumes ${app.lagTopic}`);
    }
    if (hpa && scaled) problems.push(`${where}: both an HPA and a ScaledObject scale it`);
    if ((hpa || scaled) && spec.replicas !== undefined) problems.push(`${where}: sets replicas although an autoscaler owns them`);
  }
  if (opts.serviceMonitor) {
    const monitor = byKind('ServiceMonitor')[0];
    const endpoints = (monitor?.spec as { endpoints?: { port?: string; path?: string }[] } | undefined)?.endpoints ?? [];
    if (!endpoints.some((e) => e.port === 'http' && e.path === '/metrics')) problems.push('no ServiceMonitor scraping port http at /metrics');
  }
  return problems;
}
