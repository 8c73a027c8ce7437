import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import type { PipelineApp } from './pipeline';

const REPO_ROOT = resolve(__dirname, '../../..');
const VALUES = join(REPO_ROOT, 'deploy', 'helm', 'event-pipeline', 'values.yaml');
const HELM_KEYS: Record<PipelineApp, string> = { producer: 'producer', 'stream-processor': 'streamProcessor', compactor: 'compactor', 'query-api': 'queryApi' };

/** What the Helm chart gives one app's pod: its memory limit and the V8 heap limit inside it. */
export interface ChartResources {
  /** resources.limits.memory in MiB. */
  memoryLimitMb: number;
  /** heapMb (--max-old-space-size), or undefined when the chart leaves it to Node. */
  heapMb: number | undefined;
}

/** A Kubernetes memory quantity (Mi, Gi, M, G) in MiB; throws on anything else. */
export function quantityMb(quantity: string): number {
  const m = /^(\d+(?:\.\d+)?)(Mi|Gi|M|G)$/.exec(quantity.trim());
  if (!m) throw new Error(`not a memory quantity in Mi, Gi, M or G: ${quantity}`);
  const n = Number(m[1]);
  const unit = m[2] as string;
  return unit === 'Gi' ? n * 1024 : unit === 'G' ? (n * 1e9) / 2 ** 20 : unit === 'M' ? (n * 1e6) / 2 ** 20 : n;
}

/**
 * The chart's resources of `app` (deploy/helm/event-pipeline/values.yaml), so local runs, tests and
 * benchmarks run each app with the heap limit of a pod and measure against its memory limit.
 */
export function chartResources(app: PipelineApp): ChartResources {
  const values = parse(readFileSync(VALUES, 'utf8')) as { apps: Record<string, { heapMb?: number | null; resources?: { limits?: { memory?: string } } }> };
  const entry = values.apps[HELM_KEYS[app]];
  const limit = entry?.resources?.limits?.memory;
  if (limit === undefined) throw new Error(`no memory limit for ${app} in values.yaml (apps.${HELM_KEYS[app]}.resources.limits.memory)`);
  return { memoryLimitMb: quantityMb(limit), heapMb: entry?.heapMb ?? undefined };
}

/** NODE_OPTIONS with the chart's heap limit of `app` added, unless it is unset there or the options already carry one. */
export function withChartHeapLimit(app: PipelineApp, nodeOptions: string | undefined): string | undefined {
  const { heapMb } = chartResources(app);
  if (heapMb === undefined || /--max[-_]old[-_]space[-_]size/.test(nodeOptions ?? '')) return nodeOptions;
  return [nodeOptions, `--max-old-space-size=${heapMb}`].filter((o) => o !== undefined && o.trim() !== '').join(' ');
}
