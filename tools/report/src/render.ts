/**
 * The report page: one self-contained HTML file (uPlot's script and styles, the page's own script
 * and styles and the report data all inline), so it opens offline from a file:// URL.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReportData } from './report-data';

export interface PageAssets {
  uplotJs: string;
  uplotCss: string;
  pageJs: string;
  pageCss: string;
}

/** uPlot from node_modules (the dependency the query API's dashboard serves) and the page's own files. */
export function loadAssets(): PageAssets {
  const uplotDir = join(require.resolve('uplot/dist/uPlot.iife.min.js'), '..');
  const pageDir = join(__dirname, 'page');
  return {
    uplotJs: readFileSync(join(uplotDir, 'uPlot.iife.min.js'), 'utf8'),
    uplotCss: readFileSync(join(uplotDir, 'uPlot.min.css'), 'utf8'),
    pageJs: readFileSync(join(pageDir, 'report.js'), 'utf8'),
    pageCss: readFileSync(join(pageDir, 'report.css'), 'utf8'),
  };
}

/** Text that cannot end the <script> or <style> element it sits in. */
export function inlineSafe(text: string): string {
  return text.replace(/<\/(script|style)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

/** JSON for a <script type="application/json"> element: no "<" at all, and no line separators JavaScript chokes on. */
export function jsonForHtml(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function renderHtml(data: ReportData, assets: PageAssets): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Event pipeline benchmarks — ${escapeHtml(data.generatedAt.slice(0, 10))}</title>
<link rel="icon" href="data:,">
<style>${inlineSafe(assets.uplotCss)}</style>
<style>${inlineSafe(assets.pageCss)}</style>
</head>
<body>
<header>
<h1>Event pipeline benchmarks</h1>
<p class="meta">Generated ${escapeHtml(data.generatedAt)} from ${data.sources.length} result file(s) in bench/results.</p>
</header>
<main id="report" aria-busy="true"></main>
<script type="application/json" id="report-data">${jsonForHtml(data)}</script>
<script>${inlineSafe(assets.uplotJs)}</script>
<script>${inlineSafe(assets.pageJs)}</script>
</body>
</html>
`;
}
