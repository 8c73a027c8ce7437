/**
 * The benchmark's input: an event mix shaped like the collector's load generator (mostly views, some
 * clicks and purchases, heavy-tailed users, a few user agents), framed with registry schema ids as
 * the collector writes events.raw. Event time advances steadily so windows close during the run.
 */
import { encodeFramedValue } from '@pipeline/schemas';

const TYPES: ReadonlyArray<readonly [string, number, Record<string, unknown>]> = [
  ['page_view', 380, { url: { type: 'string' }, referrer: { type: 'string' }, title: { type: 'string' }, duration_ms: { type: 'integer', minimum: 0 } }],
  ['screen_view', 220, { screen: { type: 'string' }, previous_screen: { type: 'string' } }],
  ['click', 170, { element: { type: 'string' }, url: { type: 'string' }, x: { type: 'integer' }, y: { type: 'integer' } }],
  ['search', 70, { query: { type: 'string', maxLength: 500 }, results: { type: 'integer', minimum: 0 } }],
  ['app_open', 80, { cold_start: { type: 'boolean' }, launch_ms: { type: 'integer', minimum: 0 } }],
  ['add_to_cart', 40, { sku: { type: 'string' }, price: { type: 'number', minimum: 0 }, quantity: { type: 'integer', minimum: 1 }, currency: { type: 'string', pattern: '^[A-Z]{3}$' } }],
  ['purchase', 10, { order_id: { type: 'string' }, revenue: { type: 'number', minimum: 0 }, currency: { type: 'string', pattern: '^[A-Z]{3}$' } }],
  ['push_open', 30, { campaign_id: { type: 'string' }, platform: { enum: ['ios', 'android'] } }],
];

export const BENCH_SCHEMAS: Record<string, Record<string, unknown>> = Object.fromEntries(
  TYPES.map(([type, , properties]) => [type, { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties }]),
);

const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
];
const PAGES = ['/', '/pricing', '/docs', '/blog/launch', '/product/42', '/cart', '/checkout', '/account'];

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BenchRecord {
  key: string;
  value: Buffer;
}

/** Events `first`..`first + count - 1`, framed; event time from `startMs` advancing `stepMs` per event, over `users` users. */
export function benchEvents(opts: { runId: string; first: number; count: number; startMs: number; stepMs: number; users: number; schemaIds: Record<string, number> }): BenchRecord[] {
  const random = mulberry32(42 + opts.first);
  const out: BenchRecord[] = new Array(opts.count);
  for (let n = 0; n < opts.count; n++) {
    const i = opts.first + n;
    let r = random() * 1000;
    let type = 'page_view';
    for (const [name, weight] of TYPES) {
      if (r < weight) {
        type = name;
        break;
      }
      r -= weight;
    }
    const user = `user-${Math.floor(random() ** 2 * opts.users)}`;
    const anonymous = random() < 0.3;
    const at = opts.startMs + i * opts.stepMs;
    const event = {
      event_id: `${opts.runId}-${i}`,
      event_type: type,
      occurred_at: new Date(at - Math.floor(random() * 2_000)).toISOString(),
      received_at: new Date(at).toISOString(),
      user_id: anonymous ? null : user,
      anonymous_id: anonymous ? user : null,
      properties: properties(type, random, i),
      context: { user_agent: AGENTS[Math.floor(random() * AGENTS.length)], locale: 'en-US', app_version: '4.2.0', library: { name: 'bench', version: '1' } },
    };
    out[n] = { key: user, value: encodeFramedValue(opts.schemaIds[type] as number, event) };
  }
  return out;
}

function properties(type: string, random: () => number, i: number): Record<string, unknown> {
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)] as T;
  switch (type) {
    case 'page_view':
      return { url: pick(PAGES), referrer: random() < 0.5 ? 'https://www.google.com/' : '', title: 'Shop', duration_ms: Math.floor(random() * 60_000) };
    case 'screen_view':
      return { screen: 'Home', previous_screen: 'Feed' };
    case 'click':
      return { element: 'buy-button', url: pick(PAGES), x: Math.floor(random() * 1920), y: Math.floor(random() * 1080) };
    case 'search':
      return { query: 'running shoes', results: Math.floor(random() * 200) };
    case 'app_open':
      return { cold_start: random() < 0.3, launch_ms: Math.floor(random() * 3000) };
    case 'add_to_cart':
      return { sku: `sku-${Math.floor(random() * 5000)}`, price: Math.round(random() * 20_000) / 100, quantity: 1, currency: 'EUR' };
    case 'purchase':
      return { order_id: `o-${i}`, revenue: Math.round(random() * 20_000) / 100, currency: 'EUR' };
    default:
      return { campaign_id: 'c-1', platform: random() < 0.5 ? 'ios' : 'android' };
  }
}
