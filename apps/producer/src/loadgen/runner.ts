/**
 * The load generator: sends batches of the event mix to a collector at a target rate (open loop,
 * so a slow collector shows up as latency, not as a lower offered rate) or as fast as it answers
 * (`ratePerSec: 0`, closed loop with `concurrency` requests in flight). A batch answered 429/503 or
 * lost to a connection error is retried with the same event_ids, as a real SDK would; only a 2xx
 * counts its accepted events as acknowledged.
 */
import { Agent, request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { createEventMix, type MixedEvent } from './event-mix';

/** Requests in flight at most, unless told otherwise (the CLI's --concurrency). */
export const DEFAULT_CONCURRENCY = 64;

export interface BurstOptions {
  /** Seconds after the start. */
  atSec: number;
  seconds: number;
  /** Rate multiplier during the burst. */
  factor: number;
}

export interface LoadOptions {
  /** Collector base URL, e.g. http://127.0.0.1:8100. */
  url: string;
  writeKey: string;
  /** Events per second; 0 sends as fast as the collector answers. */
  ratePerSec: number;
  durationSec: number;
  /** Events per request. */
  batch: number;
  /** Requests in flight at most. */
  concurrency: number;
  burst?: BurstOptions | undefined;
  runId: string;
  /** Keep every acknowledged event_id (for loss checks). */
  trackIds?: boolean;
  gzip?: boolean;
  /** How long to keep retrying unacknowledged batches after the run, in seconds (default 60). */
  graceSec?: number;
  seed?: number;
  signal?: AbortSignal;
  onProgress?: (progress: LoadProgress) => void;
  /** Called on every 2xx answer with the event_ids it accepted (in request order) and the wall-clock time of the answer. */
  onAck?: (ack: LoadAck) => void;
}

export interface LoadAck {
  eventIds: string[];
  /** Date.now() when the answer arrived. */
  ackedAtMs: number;
  /** From the first attempt of the request to the answer, retries included. */
  latencyMs: number;
}

export interface LoadProgress {
  elapsedSec: number;
  offeredPerSec: number;
  ackedPerSec: number;
  acked: number;
  rejected: number;
  failed: number;
  retries: number;
  inFlight: number;
  bursting: boolean;
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface LoadResult {
  runId: string;
  durationSec: number;
  requests: number;
  sentEvents: number;
  ackedEvents: number;
  rejectedEvents: number;
  /** Events of batches given up on (never acknowledged). */
  failedEvents: number;
  retries: number;
  statuses: Record<string, number>;
  ackedPerSec: number;
  latency: LatencySummary;
  ackedIds?: string[];
}

interface Answer {
  status: number;
  body: string;
  retryAfter: number | undefined;
}

/** Percentiles of a list of milliseconds (sorts it in place). */
export function summarizeLatency(samples: number[]): LatencySummary {
  samples.sort((a, b) => a - b);
  const at = (q: number) => (samples.length === 0 ? 0 : (samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] as number));
  return { count: samples.length, p50Ms: round(at(0.5)), p90Ms: round(at(0.9)), p99Ms: round(at(0.99)), maxMs: round(samples.at(-1) ?? 0) };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** Rate at second `t` of the run. */
export function rateAt(t: number, base: number, burst?: BurstOptions): number {
  if (burst !== undefined && t >= burst.atSec && t < burst.atSec + burst.seconds) return base * burst.factor;
  return base;
}

/** Events due by second `t` (the integral of {@link rateAt}). */
export function eventsDue(t: number, base: number, burst?: BurstOptions): number {
  if (burst === undefined || t <= burst.atSec) return base * t;
  const inBurst = Math.min(t, burst.atSec + burst.seconds) - burst.atSec;
  const after = Math.max(0, t - burst.atSec - burst.seconds);
  return base * burst.atSec + base * burst.factor * inBurst + base * after;
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const target = new URL('/v1/events', opts.url);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency, keepAliveMsecs: 10_000 });
  const mix = createEventMix({ runId: opts.runId, seed: opts.seed ?? 42 });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${opts.writeKey}`, ...(opts.gzip ? { 'content-encoding': 'gzip' } : {}) };
  const latencies: number[] = [];
  const ackedIds: string[] = [];
  const statuses: Record<string, number> = {};
  let sent = 0;
  let acked = 0;
  let rejected = 0;
  let failed = 0;
  let retries = 0;
  let requests = 0;
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const started = performance.now();
  const graceMs = (opts.graceSec ?? 60) * 1000;
  const endMs = opts.durationSec * 1000;

  function post(body: Buffer): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        { hostname: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const retryAfter = Number(res.headers['retry-after']);
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), retryAfter: Number.isFinite(retryAfter) ? retryAfter : undefined });
          });
          res.on('error', reject);
        },
      );
      req.setTimeout(60_000, () => req.destroy(new Error('request timed out')));
      req.on('error', reject);
      req.end(body);
    });
  }

  async function sendBatch(events: MixedEvent[]): Promise<void> {
    const json = Buffer.from(JSON.stringify(events));
    const body = opts.gzip ? gzipSync(json) : json;
    const first = performance.now();
    for (let attempt = 1; ; attempt++) {
      requests++;
      let answer: Answer | undefined;
      try {
        answer = await post(body);
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
      } catch {
        statuses['error'] = (statuses['error'] ?? 0) + 1;
      }
      if (answer !== undefined && answer.status >= 200 && answer.status < 300) {
        const ackedAtMs = Date.now();
        const latencyMs = performance.now() - first;
        latencies.push(latencyMs);
        const parsed = JSON.parse(answer.body) as { accepted: number; rejected: number; results: Array<{ event_id: string | null; status: string }> };
        acked += parsed.accepted;
        rejected += parsed.rejected;
        if (opts.trackIds || opts.onAck) {
          const ids: string[] = [];
          for (const r of parsed.results) if (r.status === 'accepted' && r.event_id !== null) ids.push(r.event_id);
          if (opts.trackIds) for (const id of ids) ackedIds.push(id);
          opts.onAck?.({ eventIds: ids, ackedAtMs, latencyMs });
        }
        return;
      }
      const retriable = answer === undefined || answer.status === 429 || answer.status >= 500;
      const past = performance.now() - started > endMs + graceMs;
      if (!retriable || past || opts.signal?.aborted) {
        if (answer !== undefined && answer.status >= 400 && answer.status < 500 && answer.status !== 429) rejected += events.length;
        else failed += events.length;
        return;
      }
      retries++;
      const waitMs = answer?.retryAfter !== undefined ? Math.min(answer.retryAfter * 1000, 5_000) : Math.min(100 * attempt, 2_000);
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }

  function launch(bursting: boolean): void {
    const now = Date.now();
    const events = Array.from({ length: opts.batch }, () => mix.next(now, bursting));
    sent += events.length;
    inFlight++;
    void sendBatch(events).finally(() => {
      inFlight--;
      wake?.();
    });
  }

  let lastTick = 0;
  let lastAcked = 0;
  let lastSent = 0;
  const progress = setInterval(() => {
    const elapsedSec = (performance.now() - started) / 1000;
    const dt = elapsedSec - lastTick || 1;
    opts.onProgress?.({
      elapsedSec,
      offeredPerSec: (sent - lastSent) / dt,
      ackedPerSec: (acked - lastAcked) / dt,
      acked,
      rejected,
      failed,
      retries,
      inFlight,
      bursting: opts.burst !== undefined && rateAt(elapsedSec, opts.ratePerSec, opts.burst) !== opts.ratePerSec,
    });
    lastTick = elapsedSec;
    lastAcked = acked;
    lastSent = sent;
  }, 1_000);

  try {
    for (;;) {
      const elapsedSec = (performance.now() - started) / 1000;
      if (elapsedSec >= opts.durationSec || opts.signal?.aborted) break;
      const bursting = opts.burst !== undefined && rateAt(elapsedSec, opts.ratePerSec, opts.burst) !== opts.ratePerSec;
      if (opts.ratePerSec <= 0) {
        while (inFlight < opts.concurrency) launch(bursting);
      } else {
        const due = eventsDue(elapsedSec, opts.ratePerSec, opts.burst);
        while (sent + opts.batch <= due && inFlight < opts.concurrency) launch(bursting);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, opts.ratePerSec <= 0 ? 50 : 2);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
    const durationSec = (performance.now() - started) / 1000;
    while (inFlight > 0) await new Promise<void>((resolve) => (wake = resolve));
    const result: LoadResult = {
      runId: opts.runId,
      durationSec: Math.round(durationSec * 100) / 100,
      requests,
      sentEvents: sent,
      ackedEvents: acked,
      rejectedEvents: rejected,
      failedEvents: failed,
      retries,
      statuses,
      ackedPerSec: Math.round(acked / durationSec),
      latency: summarizeLatency(latencies),
    };
    if (opts.trackIds) result.ackedIds = ackedIds;
    return result;
  } finally {
    clearInterval(progress);
    agent.destroy();
  }
}
