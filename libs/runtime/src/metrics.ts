import { Registry, collectDefaultMetrics } from 'prom-client';

/** A fresh registry for one app, with process metrics (RSS, CPU, event loop lag) and an `app` label. */
export function createMetricsRegistry(app: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ app });
  collectDefaultMetrics({ register: registry });
  return registry;
}
