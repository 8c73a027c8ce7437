/**
 * A realistic event mix for load tests: web and app events in the proportions a consumer product
 * sees (mostly page and screen views, some clicks and searches, few purchases), users drawn with a
 * heavy-tailed distribution (a few very active users), 30 % anonymous visitors, and a push
 * notification campaign whose opens dominate during a burst. Every event is valid against
 * {@link LOADGEN_SCHEMAS}.
 */

export interface MixedEvent {
  event_id: string;
  event_type: string;
  occurred_at: string;
  user_id?: string;
  anonymous_id?: string;
  properties: Record<string, unknown>;
  context: Record<string, unknown>;
}

/** The JSON Schemas of the mix's event types (registered by the load generator when missing). */
export const LOADGEN_SCHEMAS: Record<string, Record<string, unknown>> = {
  page_view: objectSchema({ url: { type: 'string' }, referrer: { type: 'string' }, title: { type: 'string' }, duration_ms: { type: 'integer', minimum: 0 } }, ['url']),
  screen_view: objectSchema({ screen: { type: 'string' }, previous_screen: { type: 'string' } }, ['screen']),
  click: objectSchema({ element: { type: 'string' }, url: { type: 'string' }, x: { type: 'integer' }, y: { type: 'integer' } }, ['element']),
  search: objectSchema({ query: { type: 'string', maxLength: 500 }, results: { type: 'integer', minimum: 0 } }, ['query']),
  add_to_cart: objectSchema({ sku: { type: 'string' }, price: { type: 'number', minimum: 0 }, quantity: { type: 'integer', minimum: 1 }, currency: { type: 'string', pattern: '^[A-Z]{3}$' } }, ['sku', 'price']),
  purchase: objectSchema(
    {
      order_id: { type: 'string' },
      revenue: { type: 'number', minimum: 0 },
      currency: { type: 'string', pattern: '^[A-Z]{3}$' },
      items: { type: 'array', items: objectSchema({ sku: { type: 'string' }, price: { type: 'number' }, quantity: { type: 'integer' } }, ['sku']) },
    },
    ['order_id', 'revenue'],
  ),
  push_open: objectSchema({ campaign_id: { type: 'string' }, notification_id: { type: 'string' }, platform: { enum: ['ios', 'android'] } }, ['campaign_id']),
  app_open: objectSchema({ cold_start: { type: 'boolean' }, launch_ms: { type: 'integer', minimum: 0 } }, []),
};

function objectSchema(properties: Record<string, unknown>, required: string[]): Record<string, unknown> {
  return { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties, required };
}

/** Cumulative weights of the steady mix (per 1000 events). */
const STEADY: ReadonlyArray<readonly [string, number]> = [
  ['page_view', 380],
  ['screen_view', 220],
  ['click', 170],
  ['search', 70],
  ['app_open', 80],
  ['add_to_cart', 40],
  ['purchase', 10],
  ['push_open', 30],
];

const PAGES = ['/', '/pricing', '/docs', '/blog/launch', '/product/42', '/product/7', '/cart', '/checkout', '/account', '/search'];
const SCREENS = ['Home', 'Feed', 'Product', 'Cart', 'Checkout', 'Profile', 'Settings', 'Search'];
const ELEMENTS = ['buy-button', 'nav-home', 'nav-search', 'banner', 'recommendation', 'share', 'like'];
const QUERIES = ['running shoes', 'headphones', 'coffee grinder', 'desk lamp', 'backpack', 'gift ideas', 'rain jacket'];
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0 Mobile Safari/537.36',
];
const LOCALES = ['en-US', 'en-GB', 'de-DE', 'fr-FR', 'es-ES', 'ja-JP'];

/** A small, fast PRNG (mulberry32) so runs are reproducible from a seed. */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface EventMixOptions {
  /** Prefix of every event_id (unique per run); ids are `<runId>-<n>`. */
  runId: string;
  seed?: number;
  users?: number;
}

/** Makes events of the mix; `burst` switches to a push campaign (most events are push opens and app opens). */
export function createEventMix(opts: EventMixOptions) {
  const random = createRandom(opts.seed ?? 42);
  const users = opts.users ?? 100_000;
  let seq = 0;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const campaign = `campaign-${opts.runId}`;

  function type(burst: boolean): string {
    if (burst) {
      const r = random();
      return r < 0.6 ? 'push_open' : r < 0.85 ? 'app_open' : 'screen_view';
    }
    let r = random() * 1000;
    for (const [name, weight] of STEADY) {
      if (r < weight) return name;
      r -= weight;
    }
    return 'page_view';
  }

  function properties(eventType: string): Record<string, unknown> {
    switch (eventType) {
      case 'page_view':
        return { url: pick(PAGES), referrer: random() < 0.5 ? 'https://www.google.com/' : '', title: 'Shop', duration_ms: Math.floor(random() * 60_000) };
      case 'screen_view':
        return { screen: pick(SCREENS), previous_screen: pick(SCREENS) };
      case 'click':
        return { element: pick(ELEMENTS), url: pick(PAGES), x: Math.floor(random() * 1920), y: Math.floor(random() * 1080) };
      case 'search':
        return { query: pick(QUERIES), results: Math.floor(random() * 200) };
      case 'add_to_cart':
        return { sku: `sku-${Math.floor(random() * 5000)}`, price: Math.round(random() * 20_000) / 100, quantity: 1 + Math.floor(random() * 3), currency: 'EUR' };
      case 'purchase': {
        const items = Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({ sku: `sku-${Math.floor(random() * 5000)}`, price: Math.round(random() * 10_000) / 100, quantity: 1 }));
        return { order_id: `o-${opts.runId}-${seq}`, revenue: items.reduce((s, i) => s + i.price, 0), currency: 'EUR', items };
      }
      case 'push_open':
        return { campaign_id: campaign, notification_id: `n-${Math.floor(random() * 1e9)}`, platform: random() < 0.55 ? 'ios' : 'android' };
      default:
        return { cold_start: random() < 0.3, launch_ms: Math.floor(random() * 3000) };
    }
  }

  return {
    /** One event occurring at `nowMs`. */
    next(nowMs: number, burst = false): MixedEvent {
      const eventType = type(burst);
      // Heavy tail: squaring a uniform draw favours low user numbers.
      const user = Math.floor(random() ** 2 * users);
      const event: MixedEvent = {
        event_id: `${opts.runId}-${seq++}`,
        event_type: eventType,
        occurred_at: new Date(nowMs - Math.floor(random() * 2_000)).toISOString(),
        properties: properties(eventType),
        context: { user_agent: pick(AGENTS), locale: pick(LOCALES), app_version: '4.2.0', library: { name: 'loadgen', version: '1' } },
      };
      if (random() < 0.3) event.anonymous_id = `anon-${user}`;
      else event.user_id = `user-${user}`;
      return event;
    },
    get generated(): number {
      return seq;
    },
  };
}
