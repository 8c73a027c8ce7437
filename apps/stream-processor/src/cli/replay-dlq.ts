/**
 * npm run replay-dlq -- --since 2h [--type signup]... [--code schema_violation]... [--until 2026-03-01T12:00:00Z] [--dry-run] [--ignore-checkpoint]
 *
 * Re-injects dead-lettered events into the input topic after a schema fix. Reads the same
 * environment as the processor (KAFKA_*, RAW_TOPIC, DLQ_TOPIC, APPLICATION_ID). Progress goes to
 * stderr, the summary as JSON to stdout. Exit code 0 on success, 2 on bad arguments, 1 on failure.
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { createKafka } from '@pipeline/kafka';
import { parseRfc3339 } from '@pipeline/schemas';
import { parseDuration } from '@pipeline/windowing';
import { readConfig } from '../config';
import { replayDlq, type ReplayFilter } from '../replay/replay';

const USAGE = `usage: npm run replay-dlq -- --since <time|duration> [options]
  --since T           replay records dead-lettered at or after T: RFC 3339 time, or a duration back from now (30m, 2h, 7d)
  --until T           ... and before T (default: up to the end of the DLQ when the run starts)
  --type NAME         only this event type (repeatable)
  --code CODE         only this error code, e.g. schema_violation, unknown_event_type (repeatable)
  --dry-run           count what would be replayed, produce nothing
  --ignore-checkpoint start from --since even if an earlier run with the same filter got further
                      (safe: the processor drops event_ids it already accepted, within DEDUP_TTL_MS)`;

function parseTime(text: string, now: number): number | undefined {
  const at = parseRfc3339(text);
  if (at !== undefined) return at;
  const ago = parseDuration(text);
  return ago === undefined ? undefined : now - ago;
}

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        since: { type: 'string' },
        until: { type: 'string' },
        type: { type: 'string', multiple: true },
        code: { type: 'string', multiple: true },
        'dry-run': { type: 'boolean' },
        'ignore-checkpoint': { type: 'boolean' },
        help: { type: 'boolean' },
      },
    }).values;
  } catch (err) {
    fail((err as Error).message);
  }
  if (args.help) {
    console.error(USAGE);
    return;
  }
  const now = Date.now();
  if (args.since === undefined) fail('--since is required');
  const sinceMs = parseTime(args.since, now);
  if (sinceMs === undefined) fail(`--since: not a time or duration: ${args.since}`);
  const untilMs = args.until === undefined ? undefined : parseTime(args.until, now);
  if (args.until !== undefined && untilMs === undefined) fail(`--until: not a time or duration: ${args.until}`);
  let config;
  try {
    config = readConfig();
  } catch (err) {
    fail((err as Error).message);
  }
  const filter: ReplayFilter = { sinceMs, untilMs, types: args.type ?? [], codes: args.code ?? [] };
  const kafka = createKafka(config, { clientId: 'replay-dlq', log: pino({ level: 'fatal' }) });
  const admin = kafka.admin();
  await admin.connect();
  const tty = process.stderr.isTTY;
  try {
    console.error(`replaying ${config.DLQ_TOPIC} -> ${config.RAW_TOPIC} since ${new Date(sinceMs).toISOString()}${filter.types.length ? ` types=${filter.types.join(',')}` : ''}${filter.codes.length ? ` codes=${filter.codes.join(',')}` : ''}${args['dry-run'] ? ' (dry run)' : ''}`);
    const result = await replayDlq({
      kafka,
      admin,
      dlqTopic: config.DLQ_TOPIC,
      rawTopic: config.RAW_TOPIC,
      applicationId: config.APPLICATION_ID,
      filter,
      dryRun: args['dry-run'] === true,
      ignoreCheckpoint: args['ignore-checkpoint'] === true,
      onProgress: (p) => {
        const pct = p.total === 0 ? 100 : Math.floor((100 * p.scanned) / p.total);
        const line = `scanned ${p.scanned}/${p.total} (${pct}%), matched ${p.matched}, replayed ${p.replayed}, ${(p.elapsedMs / 1000).toFixed(1)} s`;
        if (tty) process.stderr.write(`\r${line}   `);
        else console.error(line);
      },
    });
    if (tty) process.stderr.write('\n');
    console.log(JSON.stringify(result));
  } finally {
    await admin.disconnect();
  }
}

main().catch((err: unknown) => {
  console.error(`replay failed: ${(err as Error).message}`);
  process.exit(1);
});
