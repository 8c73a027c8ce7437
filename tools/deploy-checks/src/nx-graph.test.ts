import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { REPO_ROOT } from './paths';

interface Graph {
  graph: {
    nodes: Record<string, { data: { root: string; tags?: string[]; targets?: Record<string, { inputs?: unknown[] }> } }>;
    dependencies: Record<string, { target: string; type: string }[]>;
  };
}

function tsFiles(dir: string): string[] {
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const path = join(dir, e);
    if (e === 'node_modules' || e === 'dist') return [];
    return statSync(path).isDirectory() ? tsFiles(path) : /\.(ts|mts|cts)$/.test(e) ? [path] : [];
  });
}

describe('Nx project graph', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nx-graph-'));
  let graph: Graph;
  const aliases: Record<string, string[]> = (JSON.parse(readFileSync(join(REPO_ROOT, 'tsconfig.base.json'), 'utf8')) as { compilerOptions: { paths: Record<string, string[]> } }).compilerOptions.paths;

  beforeAll(() => {
    const file = join(dir, 'graph.json');
    execFileSync(join(REPO_ROOT, 'node_modules', '.bin', 'nx'), ['graph', `--file=${file}`], {
      cwd: REPO_ROOT,
      env: { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false' },
      stdio: 'ignore',
    });
    graph = JSON.parse(readFileSync(file, 'utf8')) as Graph;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('has exactly the dependencies the source imports (no phantom or missing edges)', () => {
    const projectOfPath = (path: string) =>
      Object.entries(graph.graph.nodes).find(([, n]) => n.data.root !== '.' && (path === n.data.root || path.startsWith(`${n.data.root}/`)))?.[0];
    const mismatches: string[] = [];
    for (const [name, node] of Object.entries(graph.graph.nodes)) {
      if (node.data.root === '.') continue;
      const imported = new Set<string>();
      for (const file of tsFiles(join(REPO_ROOT, node.data.root))) {
        const text = readFileSync(file, 'utf8');
        for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"](@pipeline\/[^'"]+)['"]/g)) {
          const target = aliases[m[1] ?? '']?.[0];
          const project = target ? projectOfPath(target) : undefined;
          if (project && project !== name) imported.add(project);
        }
        // A relative import into another project's folder is a dependency too (benches import app sources by path).
        for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"](\.\.?\/[^'"]+)['"]/g)) {
          const project = projectOfPath(relative(REPO_ROOT, join(dirname(file), m[1] ?? '')));
          if (project && project !== name) imported.add(project);
        }
      }
      const edges = new Set((graph.graph.dependencies[name] ?? []).map((d) => d.target).filter((t) => graph.graph.nodes[t]));
      const missing = [...imported].filter((p) => !edges.has(p));
      const phantom = [...edges].filter((p) => !imported.has(p));
      if (missing.length || phantom.length) mismatches.push(`${name}: missing ${missing.join(',') || '-'}; not imported ${phantom.join(',') || '-'}`);
    }
    expect(mismatches).toEqual([]);
  });

  it('leaves tests and docs out of production build inputs', () => {
    const nxJson = JSON.parse(readFileSync(join(REPO_ROOT, 'nx.json'), 'utf8')) as { namedInputs: Record<string, string[]>; targetDefaults: Record<string, { inputs?: string[] }> };
    expect(nxJson.namedInputs['production']).toEqual(expect.arrayContaining(['!{projectRoot}/**/*.test.ts', '!{projectRoot}/**/*.md']));
    for (const [name, node] of Object.entries(graph.graph.nodes)) {
      const inputs = node.data.targets?.['build']?.inputs;
      if (!inputs) continue;
      expect([name, inputs]).toEqual([name, expect.arrayContaining(['production'])]);
      expect([name, inputs]).not.toEqual([name, expect.arrayContaining(['default'])]);
    }
  });

  it('tags every project with its layer', () => {
    const untagged = Object.entries(graph.graph.nodes)
      .filter(([, n]) => n.data.root !== '.' && !(n.data.tags ?? []).some((t) => t.startsWith('type:')))
      .map(([name, n]) => `${name} (${relative(REPO_ROOT, join(REPO_ROOT, n.data.root))})`);
    expect(untagged).toEqual([]);
  });

  it('is the graph docs/architecture.md draws: every project with its tag, folder and dependencies', () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs', 'architecture.md'), 'utf8');
    const block = /<!-- nx-graph -->\n```\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(block).toBeDefined();
    const documented = (block ?? '')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => line.trim().replace(/\s+/g, ' '));
    const actual = Object.entries(graph.graph.nodes)
      .filter(([, n]) => n.data.root !== '.')
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, n]) => {
        const tag = (n.data.tags ?? []).find((t) => t.startsWith('type:')) ?? '-';
        const deps = [...new Set((graph.graph.dependencies[name] ?? []).map((d) => d.target).filter((t) => graph.graph.nodes[t]))].sort();
        return `${name} ${n.data.root} ${tag} -> ${deps.join(', ') || '-'}`;
      });
    expect(documented).toEqual(actual);
  });
});
