import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { GENERATED_DIRS, findDrift, generatedFiles } from './generated';
import { REPO_ROOT } from './paths';

/** `npm run deploy:generate`: rewrites every generated deployment file from the apps' schemas and metrics. */
function main(): void {
  const files = generatedFiles();
  const drift = new Set(findDrift(files).map((d) => d.file));
  for (const dir of GENERATED_DIRS) {
    mkdirSync(dir, { recursive: true });
    for (const entry of readdirSync(dir)) if (!files.has(join(dir, entry))) rmSync(join(dir, entry));
  }
  for (const [path, text] of files) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  const changed = [...drift].sort();
  console.log(changed.length ? `updated:\n${changed.map((f) => `  ${f}`).join('\n')}` : 'all generated deployment files were up to date');
  console.log(`${files.size} files checked under ${relative(process.cwd(), REPO_ROOT) || '.'}`);
}

main();
