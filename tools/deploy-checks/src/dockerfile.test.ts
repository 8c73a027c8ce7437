import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lintDockerfile, lintDockerignore } from './dockerfile-lint';
import { COMPOSE_DIR, DOCKER_DIR } from './paths';

const DOCKERFILES = [join(DOCKER_DIR, 'Dockerfile'), join(COMPOSE_DIR, 'superset', 'Dockerfile')];

const rules = (content: string) => lintDockerfile(content).map((p) => p.rule);

const GOOD = `# syntax=docker/dockerfile:1.7
ARG BASE=node:24.11.1-bookworm-slim
FROM \${BASE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci
FROM \${BASE}
COPY --from=build /src/node_modules /app/node_modules
USER 1000:1000
HEALTHCHECK CMD ["node", "-e", "process.exit(0)"]
ENTRYPOINT ["node", "main.cjs"]
`;

describe('Dockerfile lint', () => {
  it.each(DOCKERFILES.map((f) => [f.replace(/.*\/(docker|deploy)\//, '$1/'), f]))('passes %s', (_name, file) => {
    expect(lintDockerfile(readFileSync(file, 'utf8'))).toEqual([]);
  });

  it('passes the .dockerignore beside docker/Dockerfile', () => {
    expect(lintDockerignore(readFileSync(join(DOCKER_DIR, 'Dockerfile.dockerignore'), 'utf8'))).toEqual([]);
  });

  it('passes a minimal good Dockerfile, so the cases below fail for their one mistake', () => {
    expect(lintDockerfile(GOOD)).toEqual([]);
  });

  it.each([
    ['an unpinned base image', GOOD.replace('node:24.11.1-bookworm-slim', 'node:latest'), 'DF001'],
    ['a base image without a tag', GOOD.replace('node:24.11.1-bookworm-slim', 'node'), 'DF001'],
    ['a final stage running as root', GOOD.replace('USER 1000:1000', 'USER root'), 'DF002'],
    ['a final stage without USER', GOOD.replace('USER 1000:1000\n', ''), 'DF002'],
    ['no HEALTHCHECK', GOOD.replace(/HEALTHCHECK .*\n/, ''), 'DF003'],
    ['ADD of local files', GOOD.replace('COPY package.json', 'ADD package.json'), 'DF004'],
    ['npm install', GOOD.replace('RUN npm ci', 'RUN npm install'), 'DF005'],
    ['apt-get without --no-install-recommends', GOOD.replace('RUN npm ci', 'RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*'), 'DF006'],
    ['COPY --from of an unknown stage', GOOD.replace('--from=build', '--from=builder'), 'DF007'],
    ['ENTRYPOINT in shell form', GOOD.replace('ENTRYPOINT ["node", "main.cjs"]', 'ENTRYPOINT node main.cjs'), 'DF008'],
    ['a secret in ENV', GOOD.replace('USER 1000:1000', 'ENV DB_PASSWORD=hunter2\nUSER 1000:1000'), 'DF009'],
    ['curl piped into sh', GOOD.replace('RUN npm ci', 'RUN curl -fsSL https://get.example | sh'), 'DF010'],
  ])('fails on %s', (_what, content, rule) => {
    expect(rules(content)).toContain(rule);
  });

  it('fails on a syntax error (an instruction with missing arguments)', () => {
    const problems = lintDockerfile(GOOD.replace('WORKDIR /src', 'WORKDIR'));
    expect(problems.some((p) => p.rule.startsWith('syntax:'))).toBe(true);
  });

  it('fails on a .dockerignore that sends node_modules and .env into the build', () => {
    const rulesOf = lintDockerignore('.git\ndist\n').map((p) => p.message);
    expect(rulesOf).toEqual(expect.arrayContaining([expect.stringContaining('node_modules'), expect.stringContaining('.env')]));
  });
});
