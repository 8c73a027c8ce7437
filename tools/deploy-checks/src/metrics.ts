import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Registry, collectDefaultMetrics } from 'prom-client';
import ts from 'typescript';
import { REPO_ROOT } from './paths';

export interface MetricDef {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary';
  labels: string[];
  help: string;
  /** Where it is defined: a source file, or `prom-client default metrics`. */
  source: string;
}

const CONSTRUCTORS: Record<string, MetricDef['type']> = { Counter: 'counter', Gauge: 'gauge', Histogram: 'histogram', Summary: 'summary' };

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const entry of entries) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) {
      if (entry !== 'node_modules' && entry !== 'vendor') out.push(...sourceFiles(path));
    } else if (entry.endsWith('.ts') && !entry.endsWith('.test.ts') && !entry.endsWith('.d.ts')) {
      out.push(path);
    }
  }
  return out;
}

function stringValue(node: ts.Node | undefined): string | undefined {
  if (node && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node))) return node.text;
  return undefined;
}

/** prom-client metric definitions (`new Counter({ name: '…', labelNames: [...] })`) in one TypeScript source. */
export function metricsInSource(text: string, source: string): MetricDef[] {
  const file = ts.createSourceFile(source, text, ts.ScriptTarget.ES2022, true);
  const found: MetricDef[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isNewExpression(node)) {
      const callee = ts.isPropertyAccessExpression(node.expression) ? node.expression.name.text : ts.isIdentifier(node.expression) ? node.expression.text : '';
      const type = CONSTRUCTORS[callee];
      const arg = node.arguments?.[0];
      if (type && arg && ts.isObjectLiteralExpression(arg)) {
        let name: string | undefined;
        let help = '';
        let labels: string[] = [];
        for (const prop of arg.properties) {
          if (!ts.isPropertyAssignment(prop) || !ts.isIdentifier(prop.name)) continue;
          let init: ts.Expression = prop.initializer;
          while (ts.isAsExpression(init) || ts.isSatisfiesExpression(init)) init = init.expression;
          if (prop.name.text === 'name') name = stringValue(init);
          if (prop.name.text === 'help') help = stringValue(init) ?? '';
          if (prop.name.text === 'labelNames' && ts.isArrayLiteralExpression(init)) {
            labels = init.elements.map((e) => stringValue(e)).filter((v): v is string => v !== undefined);
          }
        }
        if (name) found.push({ name, type, labels, help, source });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/** prom-client's default metrics (every app registers them through libs/runtime's createMetricsRegistry). */
export function defaultMetrics(): MetricDef[] {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry.getMetricsAsArray().map((m) => {
    const metric = m as unknown as { name: string; help: string; labelNames?: string[]; constructor: { name: string } };
    return {
      name: metric.name,
      type: (CONSTRUCTORS[metric.constructor.name] ?? 'gauge') as MetricDef['type'],
      labels: metric.labelNames ?? [],
      help: metric.help,
      source: 'prom-client default metrics',
    };
  });
}

/** Every metric the apps define today: their own (found in apps/ and libs/ sources) and prom-client's defaults. */
export function definedMetrics(root = REPO_ROOT): Map<string, MetricDef> {
  const defs = new Map<string, MetricDef>();
  for (const def of defaultMetrics()) defs.set(def.name, def);
  for (const base of ['apps', 'libs']) {
    for (const project of readdirSync(join(root, base))) {
      for (const file of sourceFiles(join(root, base, project, 'src'))) {
        for (const def of metricsInSource(readFileSync(file, 'utf8'), relative(root, file))) defs.set(def.name, def);
      }
    }
  }
  return defs;
}

/** Series names a metric exposes (histograms add _bucket, _sum and _count). */
export function seriesNames(def: MetricDef): string[] {
  if (def.type === 'histogram') return [`${def.name}_bucket`, `${def.name}_sum`, `${def.name}_count`];
  if (def.type === 'summary') return [def.name, `${def.name}_sum`, `${def.name}_count`];
  return [def.name];
}

/** Labels every series has without the app declaring them: the registry's default label and Prometheus' target labels. */
export const IMPLICIT_LABELS = ['app', 'job', 'instance', 'namespace', 'pod', 'service', 'container'];

const PROMQL_WORDS = new Set([
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset',
  'sum', 'min', 'max', 'avg', 'count', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values', 'group',
  'inf', 'nan',
]);

export interface PromqlRefs {
  metrics: string[];
  /** Label names used in matchers and in by/without/on/ignoring clauses, by the metric they were next to (or '*'). */
  labels: { metric: string; label: string }[];
}

/** The metric and label names a PromQL expression refers to (functions, keywords, strings and durations left out). */
export function promqlRefs(expr: string): PromqlRefs {
  const metrics = new Set<string>();
  const labels: { metric: string; label: string }[] = [];
  // Grafana template variables ($__rate_interval, ${app}) are not PromQL names.
  let text = expr.replace(/\$\{[^}]*\}|\$__\w+|\$\w+/g, ' ');
  text = text.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
  text = text.replace(/\[[^\]]*\]/g, ' ');
  text = text.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (_m, _kw: string, names: string) => {
    for (const label of names.split(',').map((s) => s.trim()).filter(Boolean)) labels.push({ metric: '*', label });
    return ' ';
  });
  const token = /(?<![a-zA-Z0-9_:.])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?\s*(\()?/g;
  for (let m = token.exec(text); m; m = token.exec(text)) {
    const [, name = '', matchers, call] = m;
    if (call || PROMQL_WORDS.has(name)) continue;
    metrics.add(name);
    if (matchers) {
      for (const lm of matchers.slice(1, -1).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!=|!~|=)/g)) {
        if (lm[1]) labels.push({ metric: name, label: lm[1] });
      }
    }
  }
  return { metrics: [...metrics], labels };
}
