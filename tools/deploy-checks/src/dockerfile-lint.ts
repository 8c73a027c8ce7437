import { DockerfileParser, type From, type Instruction } from 'dockerfile-ast';
import { validate as validateSyntax } from 'dockerfile-utils';

export interface LintProblem {
  /** 1-based line, 0 for whole-file problems. */
  line: number;
  rule: string;
  message: string;
}

interface Stage {
  from: From;
  image: string;
  name?: string;
  instructions: Instruction[];
}

const ROOT_USERS = new Set(['root', '0', '0:0', 'root:root', 'root:0', '0:root']);

function lineOf(instruction: Instruction): number {
  return (instruction.getRange()?.start.line ?? -1) + 1;
}

function args(instruction: Instruction): string {
  return instruction.getArgumentsContent() ?? '';
}

/** Substitutes $NAME and ${NAME} with the defaults of the ARGs declared before the first FROM. */
function resolveArgs(text: string, defaults: Map<string, string>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, a: string | undefined, b: string | undefined) => {
    const value = defaults.get(a ?? b ?? '');
    return value ?? whole;
  });
}

/**
 * Lints a Dockerfile: its syntax (dockerfile-utils, the validator of the Dockerfile language
 * server) and the rules this project holds its images to, in the spirit of hadolint's:
 *
 * - DF001 every base image pinned by digest or by a version tag (never `latest` or no tag)
 * - DF002 the final stage runs as a non-root USER
 * - DF003 the final stage has a HEALTHCHECK
 * - DF004 COPY, not ADD, for local files
 * - DF005 `npm ci` (the lock file), not `npm install`, in RUN
 * - DF006 apt-get install with -y and --no-install-recommends, lists removed in the same RUN
 * - DF007 COPY --from names an earlier stage (or a pinned image)
 * - DF008 ENTRYPOINT and CMD in exec (JSON) form, so SIGTERM reaches the process
 * - DF009 no secrets in ENV or ARG
 * - DF010 no `sudo`; no `curl | sh`
 */
export function lintDockerfile(content: string): LintProblem[] {
  const problems: LintProblem[] = [];
  for (const d of validateSyntax(content)) {
    problems.push({ line: d.range.start.line + 1, rule: `syntax:${String(d.code ?? '')}`, message: typeof d.message === 'string' ? d.message : d.message.value });
  }
  const dockerfile = DockerfileParser.parse(content);
  const defaults = new Map<string, string>();
  for (const arg of dockerfile.getInitialARGs()) {
    const property = arg.getProperty();
    const value = property?.getValue();
    if (property && value !== null && value !== undefined) defaults.set(property.getName(), value);
  }

  const stages: Stage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword().toUpperCase();
    if (keyword === 'FROM') {
      const from = instruction as From;
      stages.push({ from, image: resolveArgs(from.getImage() ?? '', defaults), name: from.getBuildStage() ?? undefined, instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  if (stages.length === 0) {
    problems.push({ line: 0, rule: 'DF000', message: 'no FROM instruction' });
    return problems;
  }

  const stageNames = new Set<string>();
  const pinned = (image: string) => /@sha256:[0-9a-f]{64}$/.test(image) || /:[^:/@]*\d[^:/@]*$/.test(image.split('@')[0] ?? '');
  for (const stage of stages) {
    const base = stage.image;
    if (!stageNames.has(base) && base !== 'scratch') {
      if (base.includes('$')) problems.push({ line: lineOf(stage.from), rule: 'DF001', message: `base image ${base} uses an ARG without a default` });
      else if (/:latest(@|$)/.test(base) || !pinned(base)) problems.push({ line: lineOf(stage.from), rule: 'DF001', message: `base image ${base} is not pinned to a version tag or digest` });
    }
    if (stage.name) stageNames.add(stage.name);

    for (const instruction of stage.instructions) {
      const keyword = instruction.getKeyword().toUpperCase();
      const text = args(instruction);
      const line = lineOf(instruction);
      if (keyword === 'ADD' && !/https?:\/\/|\.tar(\.\w+)?\b|\.tgz\b/.test(text)) {
        problems.push({ line, rule: 'DF004', message: 'use COPY instead of ADD for local files' });
      }
      if (keyword === 'RUN') {
        if (/\bnpm\s+(install|i)\b/.test(text)) problems.push({ line, rule: 'DF005', message: 'use `npm ci` (installs exactly the lock file), not `npm install`' });
        if (/\bapt-get\s+install\b/.test(text)) {
          if (!/\s(-y|--yes|-qq?y)\b/.test(text)) problems.push({ line, rule: 'DF006', message: 'apt-get install without -y' });
          if (!/--no-install-recommends/.test(text)) problems.push({ line, rule: 'DF006', message: 'apt-get install without --no-install-recommends' });
          if (!/rm -rf \/var\/lib\/apt\/lists/.test(text)) problems.push({ line, rule: 'DF006', message: 'apt lists are not removed in the same RUN' });
        }
        if (/\bsudo\b/.test(text)) problems.push({ line, rule: 'DF010', message: 'sudo in RUN (the build already runs as the stage user)' });
        if (/\b(curl|wget)\b[^|]*\|\s*(ba|z)?sh\b/.test(text)) problems.push({ line, rule: 'DF010', message: 'piping a download into a shell' });
      }
      if (keyword === 'COPY') {
        const flags = (instruction as unknown as { getFlags?: () => { getName(): string; getValue(): string | null }[] }).getFlags?.() ?? [];
        const from = flags.find((f) => f.getName() === 'from')?.getValue() ?? undefined;
        if (from && !stageNames.has(from) && !/^\d+$/.test(from) && !pinned(from)) {
          problems.push({ line, rule: 'DF007', message: `COPY --from=${from} names no earlier stage` });
        }
      }
      if ((keyword === 'ENTRYPOINT' || keyword === 'CMD') && !text.trim().startsWith('[')) {
        problems.push({ line, rule: 'DF008', message: `${keyword} in shell form: signals go to /bin/sh, not the app` });
      }
      if (keyword === 'ENV' || keyword === 'ARG') {
        for (const m of text.matchAll(/\b([A-Z0-9_]*(?:PASSWORD|SECRET|TOKEN|PRIVATE_KEY)[A-Z0-9_]*)\s*=\s*\S+/g)) {
          problems.push({ line, rule: 'DF009', message: `${keyword} ${m[1]} bakes a secret into the image` });
        }
      }
    }
  }

  const final = stages.at(-1) as Stage;
  const users = final.instructions.filter((i) => i.getKeyword().toUpperCase() === 'USER');
  const lastUser = users.at(-1);
  if (!lastUser) problems.push({ line: lineOf(final.from), rule: 'DF002', message: 'the final stage sets no USER, so it runs as root' });
  else if (ROOT_USERS.has(args(lastUser).trim())) problems.push({ line: lineOf(lastUser), rule: 'DF002', message: 'the final stage runs as root' });
  const healthchecks = final.instructions.filter((i) => i.getKeyword().toUpperCase() === 'HEALTHCHECK');
  const lastHealthcheck = healthchecks.at(-1);
  if (!lastHealthcheck) problems.push({ line: lineOf(final.from), rule: 'DF003', message: 'the final stage has no HEALTHCHECK' });
  else if (/^\s*NONE\s*$/i.test(args(lastHealthcheck))) problems.push({ line: lineOf(lastHealthcheck), rule: 'DF003', message: 'HEALTHCHECK NONE' });
  return problems;
}

/** Problems of a .dockerignore for a build context that holds the repository. */
export function lintDockerignore(content: string): LintProblem[] {
  const patterns = content
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const problems: LintProblem[] = [];
  for (const required of ['node_modules', '.git', 'dist']) {
    if (!patterns.some((p) => p.replace(/^\*\*\//, '').replace(/\/$/, '') === required)) {
      problems.push({ line: 0, rule: 'DI001', message: `.dockerignore does not exclude ${required}` });
    }
  }
  if (!patterns.some((p) => /\.env/.test(p))) problems.push({ line: 0, rule: 'DI002', message: '.dockerignore does not exclude .env files (secrets)' });
  return problems;
}
