/**
 * The benchmark's input: an event mix shaped like the collector's load generator (mostly views, some
 * clicks and purchases, heavy-tailed users), framed with registry schema ids as the collector writes
 * events.raw. Event time advances steadily so windows close during the run.
 *
 * User agents follow real traffic rather than one agent or all-unique ones: a pool of
 * {@link AGENT_POOL_SIZE} distinct strings (Chrome, Safari, Firefox, Edge, Samsung Internet and in-app
 * browsers over OS, device and version variants) drawn with Zipf(s = 1) popularity; each user keeps
 * one agent (their device), 14% of events come from a second device drawn from the same Zipf law, and
 * 1% carry a one-off agent (in-app browsers stamp a build or request id), the cache misses of real traffic.
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

export const AGENT_POOL_SIZE = 2_000;
/** Shares of events with the user's own agent, another pool agent, or a one-off agent. */
const SECOND_DEVICE_SHARE = 0.14;
const ONE_OFF_SHARE = 0.01;

function agentPool(size: number): string[] {
  const random = mulberry32(7);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)] as T;
  const chromeVersion = () => `${120 + Math.floor(random() * 10)}.0.${6000 + Math.floor(random() * 700)}.${Math.floor(random() * 200)}`;
  const androidModels = ['Pixel 8', 'Pixel 7a', 'SM-S918B', 'SM-A546B', 'SM-G991B', 'moto g54 5G', 'Redmi Note 12', 'CPH2449', 'SM-X710', '2201117TY'];
  const iosVersions = ['16_7', '17_4_1', '17_5', '17_6_1', '18_0', '18_1'];
  const macVersions = ['10_15_7', '13_6', '14_5', '14_6_1'];
  const builders: (() => string)[] = [
    () => `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chromeVersion()} Safari/537.36`,
    () => `Mozilla/5.0 (Macintosh; Intel Mac OS X ${pick(macVersions)}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chromeVersion()} Safari/537.36`,
    () => `Mozilla/5.0 (Linux; Android ${12 + Math.floor(random() * 3)}; ${pick(androidModels)}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chromeVersion()} Mobile Safari/537.36`,
    () => {
      const ios = pick(iosVersions);
      return `Mozilla/5.0 (iPhone; CPU iPhone OS ${ios} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${ios.split('_').slice(0, 2).join('.')} Mobile/15E148 Safari/604.1`;
    },
    () => `Mozilla/5.0 (Macintosh; Intel Mac OS X ${pick(macVersions)}) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.${Math.floor(random() * 7)} Safari/605.1.15`,
    () => `Mozilla/5.0 (${pick(['Windows NT 10.0; Win64; x64', 'X11; Linux x86_64', 'X11; Ubuntu; Linux x86_64'])}; rv:${125 + Math.floor(random() * 8)}.0) Gecko/20100101 Firefox/${125 + Math.floor(random() * 8)}.0`,
    () => `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chromeVersion()} Safari/537.36 Edg/${120 + Math.floor(random() * 10)}.0.${2000 + Math.floor(random() * 800)}.${Math.floor(random() * 100)}`,
    () => `Mozilla/5.0 (Linux; Android ${12 + Math.floor(random() * 3)}; ${pick(androidModels)}) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/${22 + Math.floor(random() * 4)}.0 Chrome/${chromeVersion()} Mobile Safari/537.36`,
    () => `Mozilla/5.0 (iPad; CPU OS ${pick(iosVersions)} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/${chromeVersion()} Mobile/15E148 Safari/604.1`,
  ];
  const agents = new Set<string>();
  while (agents.size < size) agents.add(pick(builders)());
  return [...agents];
}

const AGENTS = agentPool(AGENT_POOL_SIZE);
/** Cumulative Zipf(s = 1) weights over the pool's ranks. */
const AGENT_CDF = (() => {
  const cdf = new Float64Array(AGENTS.length);
  let sum = 0;
  for (let rank = 0; rank < AGENTS.length; rank++) cdf[rank] = sum += 1 / (rank + 1);
  return cdf.map((w) => w / sum);
})();

function zipfAgent(u: number): string {
  let lo = 0;
  let hi = AGENT_CDF.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((AGENT_CDF[mid] as number) < u) lo = mid + 1;
    else hi = mid;
  }
  return AGENTS[lo] as string;
}

function agentFor(user: number, i: number, random: () => number): string {
  const r = random();
  if (r < ONE_OFF_SHARE) {
    return `Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/21F90 [FBAN/FBIOS;FBAV/471.0.0.41.103;FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/17.5;FBLC/en_US;FBOP/5;FBRV/${600_000_000 + i}]`;
  }
  if (r < ONE_OFF_SHARE + SECOND_DEVICE_SHARE) return zipfAgent(random());
  return zipfAgent(mulberry32(user)());
}

/** How the agents of `agents` are spread: distinct strings and the event shares of the most common ones. */
export function describeAgents(agents: readonly string[]): { events: number; distinct: number; top1_share: number; top10_share: number; top100_share: number; seen_once_share: number } {
  const counts = new Map<string, number>();
  for (const a of agents) counts.set(a, (counts.get(a) ?? 0) + 1);
  const sorted = [...counts.values()].sort((a, b) => b - a);
  const share = (n: number) => Math.round((sorted.slice(0, n).reduce((s, c) => s + c, 0) / agents.length) * 1000) / 1000;
  const once = sorted.filter((c) => c === 1).length;
  return { events: agents.length, distinct: counts.size, top1_share: share(1), top10_share: share(10), top100_share: share(100), seen_once_share: Math.round((once / agents.length) * 1000) / 1000 };
}

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
  /** The event's context.user_agent (for describing the mix). */
  agent: string;
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
    const userNumber = Math.floor(random() ** 2 * opts.users);
    const user = `user-${userNumber}`;
    const anonymous = random() < 0.3;
    const at = opts.startMs + i * opts.stepMs;
    const agent = agentFor(userNumber, i, random);
    const event = {
      event_id: `${opts.runId}-${i}`,
      event_type: type,
      occurred_at: new Date(at - Math.floor(random() * 2_000)).toISOString(),
      received_at: new Date(at).toISOString(),
      user_id: anonymous ? null : user,
      anonymous_id: anonymous ? user : null,
      properties: properties(type, random, i),
      context: { user_agent: agent, locale: 'en-US', app_version: '4.2.0', library: { name: 'bench', version: '1' } },
    };
    out[n] = { key: user, value: encodeFramedValue(opts.schemaIds[type] as number, event), agent };
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
