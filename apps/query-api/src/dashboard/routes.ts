import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { RouteTable } from '../http/routes';

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
  /** Vendored files never change for a given build; the page and its script are revalidated. */
  immutable: boolean;
}

// Everything the page loads comes from this server: no CDN, no inline script.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** The page's own files: beside this module in the sources, under `dashboard/` in the build. */
export function dashboardDir(): string {
  const candidates = [join(__dirname, 'static'), join(__dirname, 'dashboard')];
  const found = candidates.find((dir) => existsSync(join(dir, 'index.html')));
  if (!found) throw new Error(`dashboard files not found in ${candidates.join(' or ')}`);
  return found;
}

function asset(path: string, type: string, immutable = false): Asset {
  const body = readFileSync(path);
  return { body, type, immutable, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

/** Serves the dashboard at `/`, its script and styles, and uPlot (MIT) from node_modules, bundled with the app. */
export function registerDashboardRoutes(app: FastifyInstance, routes: RouteTable): void {
  const dir = dashboardDir();
  const uplotDir = join(require.resolve('uplot/dist/uPlot.iife.min.js'), '..');
  const assets = new Map<string, Asset>([
    ['/', asset(join(dir, 'index.html'), 'text/html; charset=utf-8')],
    ['/dashboard/dashboard.js', asset(join(dir, 'dashboard.js'), 'text/javascript; charset=utf-8')],
    ['/dashboard/dashboard.css', asset(join(dir, 'dashboard.css'), 'text/css; charset=utf-8')],
    ['/dashboard/vendor/uPlot.iife.min.js', asset(join(uplotDir, 'uPlot.iife.min.js'), 'text/javascript; charset=utf-8', true)],
    ['/dashboard/vendor/uPlot.min.css', asset(join(uplotDir, 'uPlot.min.css'), 'text/css; charset=utf-8', true)],
  ]);
  for (const [url, file] of assets) {
    routes.add(
      app,
      {
        method: 'GET',
        url,
        access: 'public',
        tag: 'dashboard',
        summary: url === '/' ? 'The dashboard page' : `Dashboard file ${url}`,
        hidden: url !== '/',
        responses: { '200': { description: 'The dashboard (HTML); it asks for a token with the saved scope', content: { 'text/html': { schema: { type: 'string' } } } } },
      },
      async (request, reply) => {
        reply.header('ETag', file.etag).header('Cache-Control', file.immutable ? 'public, max-age=86400' : 'no-cache').header('X-Content-Type-Options', 'nosniff');
        if (url === '/') reply.header('Content-Security-Policy', CSP).header('Referrer-Policy', 'no-referrer');
        if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
        return reply.type(file.type).send(file.body);
      },
    );
  }
}
