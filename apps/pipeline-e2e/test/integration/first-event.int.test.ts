import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { LOCAL_STACK } from '@pipeline/config';
import { createKafka } from '@pipeline/kafka';
import { createTrino, queryAll } from '@pipeline/lake';
import { Pipeline, stackSettings, waitFor } from '@pipeline/testing';

/**
 * The README's "First event" commands, run as written against a pipeline with the local stack's
 * development write key and query token (as `npm start` has them). Only what isolates this run
 * from the shared stack is rewritten: the apps' ports and the registry subject's prefix.
 */

const README = join(__dirname, '..', '..', '..', '..', 'README.md');
const run = promisify(execFile);

/** The shell commands of the fenced bash block in the README section `heading`, continuation lines joined. */
function readmeCommands(heading: string): string[] {
  const text = readFileSync(README, 'utf8');
  const start = text.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README has no section "${heading}"`);
  const end = text.indexOf('\n## ', start + 1);
  const section = text.slice(start, end < 0 ? undefined : end);
  const block = /```bash\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error(`section "${heading}" has no bash block`);
  return block
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** Replaces `from` with `to`, insisting that `from` is there (so a changed README fails here, not silently). */
function rewrite(command: string, from: string, to: string): string {
  if (!command.includes(from)) throw new Error(`expected ${from} in: ${command}`);
  return command.split(from).join(to);
}

let p: Pipeline;

beforeAll(async () => {
  p = await Pipeline.start({ name: 'e2e_first', localDevCredentials: true });
}, 180_000);

afterAll(async () => {
  await p?.destroy();
});

describe('README: first event', () => {
  it('registers a schema, sends an event with the development write key and reads it back with the development token', async () => {
    const commands = readmeCommands('First event');
    expect(commands).toHaveLength(3);
    const [register, send, query] = commands as [string, string, string];
    const collector = `http://127.0.0.1:${LOCAL_STACK.apps.producer}`;
    const queryApi = `http://127.0.0.1:${LOCAL_STACK.apps.queryApi}`;

    const registered = JSON.parse((await run('bash', ['-c', rewrite(register, '/subjects/signup/', `/subjects/${encodeURIComponent(`${p.names.subjectPrefix}signup`)}/`)])).stdout) as { id?: unknown };
    expect(registered.id).toEqual(expect.any(Number));

    const sent = await run('bash', ['-c', rewrite(send, collector, p.url('producer'))]);
    const answer = JSON.parse(sent.stdout) as { accepted: number; rejected: number; results: Array<{ event_id: string; status: string }> };
    expect(answer).toMatchObject({ accepted: 1, rejected: 0, results: [{ status: 'accepted', event_id: expect.stringMatching(/^first-\d+$/) }] });
    const eventId = answer.results[0]?.event_id;
    const acknowledgedAt = Date.now();

    const rows = await waitFor(
      async () => {
        const out = JSON.parse((await run('bash', ['-c', rewrite(query, queryApi, p.url('query-api'))])).stdout) as { rows?: unknown[][]; error?: unknown };
        return out.rows?.some((r) => r[0] === eventId) ? out.rows : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'the README query to return the first event' },
    );
    process.stderr.write(`first event visible through the README query ${((Date.now() - acknowledgedAt) / 1000).toFixed(1)} s after the 202\n`);
    expect(rows[0]).toEqual([eventId, 'signup', expect.stringMatching(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.000000 UTC$/), 'free']);

    // What the dashboard's first chart asks for, with the same token the README's dashboard link carries.
    const headers = { authorization: `Bearer ${p.queryToken}`, 'content-type': 'application/json' };
    const page = await fetch(`${p.url('query-api')}/`);
    expect([page.status, (await page.text()).includes('<title>Event pipeline dashboard</title>')]).toEqual([200, true]);
    const to = new Date(Math.ceil(Date.now() / 60_000) * 60_000 + 60_000);
    const from = new Date(to.getTime() - 3_600_000);
    const chart = await fetch(`${p.url('query-api')}/v1/queries/events_per_minute/run`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ parameters: { from: from.toISOString(), to: to.toISOString(), bucket: 'minute' } }),
    });
    const result = (await chart.json()) as { columns: Array<{ name: string }>; rows: unknown[][] };
    expect(chart.status).toBe(200);
    expect(result.columns.map((c) => c.name)).toEqual(['bucket_start', 'event_type', 'events']);
    expect(result.rows.map((r) => [r[1], r[2]])).toEqual([['signup', 1]]);
  });

  it('leaves nothing of the run on the stack once destroyed: topics, consumer groups, subjects, tables', async () => {
    const settings = stackSettings();
    const id = p.names.id;
    await p.destroy();
    const admin = createKafka(settings, { clientId: `${id}-check`, log: pino({ level: 'silent' }) }).admin();
    await admin.connect();
    try {
      const leftovers = async () => ({
        topics: (await admin.listTopics()).filter((t) => t.startsWith(id)),
        groups: (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(id)),
        subjects: ((await (await fetch(`${settings.SCHEMA_REGISTRY_URL}/subjects`)).json()) as string[]).filter((s) => s.startsWith(p.names.subjectPrefix)),
        schemas: (await queryAll(createTrino(settings), `SHOW SCHEMAS FROM lake LIKE '${p.names.namespace}'`)).rows,
      });
      // Topic deletion reaches the broker's metadata a moment after the call returns.
      let left = await leftovers();
      await waitFor(async () => Object.values((left = await leftovers())).every((l) => l.length === 0), { timeoutMs: 10_000, intervalMs: 500, what: 'the run to be gone' }).catch(() => undefined);
      expect(left).toEqual({ topics: [], groups: [], subjects: [], schemas: [] });
    } finally {
      await admin.disconnect();
    }
  }, 120_000);
});
