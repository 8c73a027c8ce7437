/**
 * npm run loadgen -- --rate 2000 --duration 60 --batch 50 [--burst] [--url http://127.0.0.1:8100]
 *
 * Prints a live progress line on stderr and, at the end, a JSON summary on stdout whose
 * `ackedEvents` is the number of events the collector acknowledged (2xx). With --ids-out FILE the
 * acknowledged event_ids are written one per line, for loss checks against Kafka or the lake.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { LOCAL_STACK, LOCAL_URLS } from '@pipeline/config';
import { registerLoadgenSchemas } from '../loadgen/register-schemas';
import { DEFAULT_CONCURRENCY, runLoad, type LoadProgress } from '../loadgen/runner';

const USAGE = `usage: npm run loadgen -- [options]
  --rate N            events per second (0 = as fast as the collector answers)   [1000]
  --duration S        seconds of load                                            [30]
  --batch N           events per request                                         [50]
  --burst             push-notification burst: --burst-factor x the rate for --burst-seconds
  --burst-at S        when the burst starts                                      [duration/3]
  --burst-seconds S   burst length                                               [30]
  --burst-factor N    burst multiplier                                           [10]
  --concurrency N     requests in flight at most                                 [${DEFAULT_CONCURRENCY}]
  --url URL           collector base URL                                         [http://127.0.0.1:${LOCAL_STACK.apps.producer}]
  --write-key KEY     write key                                                  [local-dev-write-key]
  --registry URL      schema registry, to register the mix's schemas             [${LOCAL_URLS.registry}]
  --subject-prefix P  registry subject prefix (the collector's SCHEMA_SUBJECT_PREFIX) ['']
  --no-register       do not register schemas
  --gzip              gzip request bodies
  --ids-out FILE      write acknowledged event_ids, one per line
  --run-id ID         event_id prefix                                            [random]`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string', default: '1000' },
      duration: { type: 'string', default: '30' },
      batch: { type: 'string', default: '50' },
      burst: { type: 'boolean', default: false },
      'burst-at': { type: 'string' },
      'burst-seconds': { type: 'string', default: '30' },
      'burst-factor': { type: 'string', default: '10' },
      concurrency: { type: 'string', default: String(DEFAULT_CONCURRENCY) },
      url: { type: 'string', default: `http://127.0.0.1:${LOCAL_STACK.apps.producer}` },
      'write-key': { type: 'string', default: 'local-dev-write-key' },
      registry: { type: 'string', default: LOCAL_URLS.registry },
      'subject-prefix': { type: 'string', default: '' },
      'no-register': { type: 'boolean', default: false },
      gzip: { type: 'boolean', default: false },
      'ids-out': { type: 'string' },
      'run-id': { type: 'string', default: `lg-${Date.now().toString(36)}` },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const num = (name: string, value: string | undefined, min: number): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}`);
    return n;
  };
  const duration = num('duration', values.duration, 1);
  const burst = values.burst
    ? { atSec: num('burst-at', values['burst-at'] ?? String(Math.floor(duration / 3)), 0), seconds: num('burst-seconds', values['burst-seconds'], 1), factor: num('burst-factor', values['burst-factor'], 1) }
    : undefined;
  if (!values['no-register']) await registerLoadgenSchemas(values.registry as string, values['subject-prefix'] as string);

  const tty = process.stderr.isTTY;
  const show = (p: LoadProgress) => {
    const line = `t=${p.elapsedSec.toFixed(0).padStart(4)}s offered=${p.offeredPerSec.toFixed(0).padStart(6)}/s acked=${p.ackedPerSec.toFixed(0).padStart(6)}/s total_acked=${p.acked} rejected=${p.rejected} failed=${p.failed} retries=${p.retries} in_flight=${p.inFlight}${p.bursting ? ' BURST' : ''}`;
    process.stderr.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
  };
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const result = await runLoad({
    url: values.url as string,
    writeKey: values['write-key'] as string,
    ratePerSec: num('rate', values.rate, 0),
    durationSec: duration,
    batch: num('batch', values.batch, 1),
    concurrency: num('concurrency', values.concurrency, 1),
    burst,
    runId: values['run-id'] as string,
    trackIds: values['ids-out'] !== undefined,
    gzip: values.gzip,
    signal: controller.signal,
    onProgress: show,
  });
  if (tty) process.stderr.write('\n');
  const { ackedIds, ...summary } = result;
  if (values['ids-out'] !== undefined) writeFileSync(values['ids-out'], (ackedIds ?? []).join('\n') + '\n');
  console.log(JSON.stringify(summary, null, 2));
  process.stderr.write(`acknowledged ${summary.ackedEvents} of ${summary.sentEvents} events (${summary.rejectedEvents} rejected, ${summary.failedEvents} failed)\n`);
  return summary.failedEvents > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(2);
  },
);
