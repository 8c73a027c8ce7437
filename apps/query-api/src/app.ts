import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { Lifecycle, PipelineError, Readiness, createHttpApp, dependencyProbe, httpComponent, type Logger } from '@pipeline/runtime';
import type { QueryApiConfig } from './config';

export interface QueryApiDeps {
  config: QueryApiConfig;
  log: Logger;
  registry: Registry;
  /** fetch, injectable for tests. */
  fetch: typeof fetch;
}

/** Builds the query API: its HTTP app and lifecycle (Trino probe, HTTP). */
export function buildQueryApiApp(deps: QueryApiDeps): { http: FastifyInstance; lifecycle: Lifecycle; readiness: Readiness } {
  const { config, log, registry } = deps;
  const readiness = new Readiness();
  const http = createHttpApp({ readiness, registry, log });
  const lifecycle = new Lifecycle(log)
    .onShutdown(() => readiness.beginShutdown())
    .add(
      dependencyProbe({
        name: 'trino',
        readiness,
        log,
        check: async (signal) => {
          const res = await deps.fetch(new URL('/v1/info', config.TRINO_URL), { signal });
          const info = (await res.json()) as { starting?: boolean };
          if (!res.ok || info.starting !== false) throw new PipelineError('dependency_unavailable', `Trino answered ${res.status}, starting=${String(info.starting)}`);
        },
      }),
    )
    .add(httpComponent(http, { host: config.HTTP_HOST, port: config.HTTP_PORT }));
  return { http, lifecycle, readiness };
}
