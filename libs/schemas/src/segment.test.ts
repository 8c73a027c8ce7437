import fc from 'fast-check';
import type { EventResult } from './envelope';
import { EVENT_TYPE_PATTERN } from './envelope';
import { createPropertiesValidator, createSchemaPropertiesCheck } from './properties-validator';
import { createSegmentValidator, mapSegmentCall, normalizeEventName } from './segment';

const NOW = Date.parse('2024-05-01T12:00:01.000Z');

/** A `/v1/batch` body as @segment/analytics-node 2.x posts it (one track call). */
function nodeBatch() {
  return {
    batch: [
      {
        userId: 'user_01HV9Q6Z1K7W2J3M4N5P6Q7R8S',
        event: 'Order Completed',
        properties: {
          order_id: '50314b8e9bcf000000000000',
          total: 27.5,
          revenue: 25,
          shipping: 3,
          tax: 2,
          discount: 2.5,
          coupon: 'hasbros',
          currency: 'USD',
          products: [{ product_id: '507f1f77bcf86cd799439011', sku: '45790-32', name: 'Monopoly: 3rd Edition', price: 19, quantity: 1, category: 'Games' }],
        },
        type: 'track',
        context: { library: { name: '@segment/analytics-node', version: '2.1.3' } },
        _metadata: { nodeVersion: '20.11.1', jsRuntime: 'node' },
        timestamp: '2024-05-01T12:00:00.000Z',
        integrations: {},
        messageId: 'node-next-1714564800000-0f6a5b8e-3c5e-4d2b-9c1e-2f7d8a9b0c1d',
      },
    ],
    sentAt: '2024-05-01T12:00:00.250Z',
  };
}

/** A page call as analytics.js (analytics-next) sends it from a browser. */
function browserPage() {
  return {
    timestamp: '2024-05-01T11:59:58.120Z',
    integrations: {},
    type: 'page',
    name: 'Pricing',
    category: 'Marketing',
    properties: { path: '/pricing', referrer: 'https://www.google.com/', search: '', title: 'Pricing - Example', url: 'https://example.com/pricing' },
    context: {
      page: { path: '/pricing', referrer: 'https://www.google.com/', search: '', title: 'Pricing - Example', url: 'https://example.com/pricing' },
      userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
      userAgentData: { brands: [{ brand: 'Chromium', version: '124' }], mobile: false, platform: 'macOS' },
      locale: 'en-US',
      library: { name: 'analytics.js', version: 'npm:next-1.70.0' },
      timezone: 'Europe/Paris',
    },
    messageId: 'ajs-next-1714564798120-5b4e1d2f-8a3c-4e6f-9d0b-1c2a3b4c5d6e',
    anonymousId: 'c9b4e6a2-1d3f-4a5b-8c7d-9e0f1a2b3c4d',
    userId: null,
    writeKey: 'wk_3f9a',
    sentAt: '2024-05-01T11:59:58.200Z',
    _metadata: { bundled: ['Segment.io'], unbundled: [], bundledIds: [] },
  };
}

/** A screen call from analytics-ios. */
function iosScreen() {
  return {
    type: 'screen',
    name: 'Home',
    properties: { tab: 'featured' },
    anonymousId: '6A2B0E1C-6D0B-4E3A-9C5D-3F1A2B3C4D5E',
    messageId: '1F6A5B8E-3C5E-4D2B-9C1E-2F7D8A9B0C1D',
    timestamp: '2024-05-01T13:59:30.000+02:00',
    context: {
      app: { name: 'Shop', version: '3.4.1', build: '341', namespace: 'com.example.shop' },
      device: { manufacturer: 'Apple', model: 'iPhone15,2', type: 'ios' },
      os: { name: 'iOS', version: '17.4' },
      ip: '203.0.113.7',
      locale: 'fr-FR',
      timezone: 'Europe/Paris',
      network: { wifi: true, cellular: false },
      screen: { width: 390, height: 844 },
      library: { name: 'analytics-ios', version: '4.1.8' },
    },
  };
}

const identify = {
  type: 'identify',
  userId: 'user_42',
  anonymousId: 'c9b4e6a2-1d3f-4a5b-8c7d-9e0f1a2b3c4d',
  traits: { email: 'ada@example.com', name: 'Ada Lovelace', plan: 'pro', createdAt: '2023-11-02T09:00:00.000Z', address: { city: 'London', country: 'UK' } },
  context: { library: { name: '@segment/analytics-node', version: '2.1.3' } },
  messageId: 'node-next-1714564790000-aa11',
  timestamp: '2024-05-01T11:59:50.000Z',
};

const group = {
  type: 'group',
  userId: 'user_42',
  groupId: 'acme-inc',
  traits: { name: 'Acme Inc', industry: 'Technology', employees: 420 },
  messageId: 'node-next-1714564791000-bb22',
  timestamp: '2024-05-01T11:59:51.000Z',
};

const alias = { type: 'alias', previousId: 'c9b4e6a2-1d3f-4a5b-8c7d-9e0f1a2b3c4d', userId: 'user_42', messageId: 'node-next-1714564792000-cc33', timestamp: '2024-05-01T11:59:52.000Z' };

function accepted(result: EventResult | undefined) {
  if (result === undefined || !result.ok) throw new Error(`rejected: ${JSON.stringify(result)}`);
  return result.event;
}

describe('normalizeEventName', () => {
  it.each([
    ['Order Completed', 'order_completed'],
    ['Product Added to Cart', 'product_added_to_cart'],
    ['productAddedToCart', 'product_added_to_cart'],
    ['HTTPRequestFailed', 'http_request_failed'],
    ['order_completed', 'order_completed'],
    ['  Signed   Up!  ', 'signed_up'],
    ['Checkout Step 2.1 Viewed', 'checkout_step_2.1_viewed'],
    ["User's Cart Viewed", 'users_cart_viewed'],
    ['Café Visité', 'cafe_visite'],
    ['Video-Playback Started', 'video_playback_started'],
    ['404 Seen', '404_seen'],
    ['🚀 Launched', 'launched'],
  ])('%j -> %j', (name, expected) => {
    expect(normalizeEventName(name)).toBe(expected);
  });

  it('is idempotent and yields only [a-z0-9_.] without edge underscores', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (name) => {
        const once = normalizeEventName(name);
        expect(normalizeEventName(once)).toBe(once);
        expect(once).toMatch(/^(?:[a-z0-9.](?:[a-z0-9_.]*[a-z0-9.])?)?$/);
      }),
    );
  });

  it('turns Title Case names of ASCII words into valid event types', () => {
    const word = fc.stringMatching(/^[A-Z][a-z]{1,8}$/);
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 5 }), (words) => {
        const type = normalizeEventName(words.join(' '));
        expect(type).toMatch(EVENT_TYPE_PATTERN);
        expect(type).toBe(words.map((w) => w.toLowerCase()).join('_'));
      }),
    );
  });
});

describe('mapSegmentCall', () => {
  it('maps a track call from analytics-node', () => {
    const call = nodeBatch().batch[0];
    const mapped = mapSegmentCall(call);
    expect(mapped.ok).toBe(true);
    if (!mapped.ok) return;
    expect(mapped.input).toEqual({
      event_id: 'node-next-1714564800000-0f6a5b8e-3c5e-4d2b-9c1e-2f7d8a9b0c1d',
      event_type: 'order_completed',
      occurred_at: '2024-05-01T12:00:00.000Z',
      user_id: 'user_01HV9Q6Z1K7W2J3M4N5P6Q7R8S',
      anonymous_id: undefined,
      properties: call?.properties,
      context: { library: { name: '@segment/analytics-node', version: '2.1.3' } },
    });
  });

  it('maps a browser page call: name and category join the properties, userAgent is renamed', () => {
    const mapped = mapSegmentCall(browserPage());
    if (!mapped.ok) throw new Error('not mapped');
    expect(mapped.input.event_type).toBe('page');
    expect(mapped.input.properties).toEqual({ ...browserPage().properties, name: 'Pricing', category: 'Marketing' });
    expect(mapped.input.context).toMatchObject({ user_agent: browserPage().context.userAgent, locale: 'en-US', timezone: 'Europe/Paris', page: { path: '/pricing' } });
    expect(mapped.input.context).not.toHaveProperty('userAgent');
  });

  it('maps an iOS screen call: app.version becomes app_version, the rest of context is kept', () => {
    const mapped = mapSegmentCall(iosScreen());
    if (!mapped.ok) throw new Error('not mapped');
    expect(mapped.input).toMatchObject({ event_type: 'screen', anonymous_id: '6A2B0E1C-6D0B-4E3A-9C5D-3F1A2B3C4D5E', properties: { tab: 'featured', name: 'Home' } });
    expect(mapped.input.context).toMatchObject({ app_version: '3.4.1', app: { build: '341' }, ip: '203.0.113.7', os: { name: 'iOS' } });
  });

  it('maps identify traits, also from context.traits as older SDKs send them', () => {
    const mapped = mapSegmentCall(identify);
    expect(mapped.ok && mapped.input).toMatchObject({ event_type: 'identify', user_id: 'user_42', properties: identify.traits });
    const legacy = mapSegmentCall({ ...identify, traits: undefined, context: { traits: { plan: 'free' } } });
    expect(legacy.ok && legacy.input.properties).toEqual({ plan: 'free' });
  });

  it('maps group traits with the group id, and alias with the previous id', () => {
    const g = mapSegmentCall(group);
    expect(g.ok && g.input).toMatchObject({ event_type: 'group', properties: { name: 'Acme Inc', employees: 420, group_id: 'acme-inc' } });
    const a = mapSegmentCall(alias);
    expect(a.ok && a.input).toMatchObject({ event_type: 'alias', user_id: 'user_42', properties: { previous_id: alias.previousId } });
  });

  it('uses originalTimestamp when there is no timestamp, and numeric ids as strings', () => {
    const mapped = mapSegmentCall({ type: 'track', event: 'X', messageId: 'm', originalTimestamp: '2024-05-01T11:00:00Z', userId: 1234 });
    expect(mapped.ok && mapped.input).toMatchObject({ occurred_at: '2024-05-01T11:00:00Z', user_id: '1234' });
  });

  it('takes the call type from the route when the body has none', () => {
    const mapped = mapSegmentCall({ event: 'Signed Up', messageId: 'm', timestamp: '2024-05-01T11:00:00Z', userId: 'u' }, { type: 'track' });
    expect(mapped.ok && mapped.input.event_type).toBe('signed_up');
  });

  it.each([
    ['not an object', 'track', 'not_an_object', '$'],
    ['no type', { event: 'X' }, 'missing_field', '$.type'],
    ['a numeric type', { type: 1 }, 'wrong_type', '$.type'],
    ['an unknown type', { type: 'purchase' }, 'invalid_event_type', '$.type'],
  ])('refuses %s', (_name, call, code, path) => {
    const mapped = mapSegmentCall(call);
    expect(mapped.ok ? [] : mapped.problems.map((p) => [p.code, p.path])).toEqual([[code, path]]);
  });

  it('keeps a __proto__ context key as data instead of re-prototyping the object', () => {
    const mapped = mapSegmentCall({ ...nodeBatch().batch[0], context: JSON.parse('{"__proto__": {"polluted": true}}') as unknown });
    if (!mapped.ok) throw new Error('not mapped');
    expect(Object.getPrototypeOf(mapped.input.context)).toBe(Object.prototype);
    expect(Object.keys(mapped.input.context as object)).toEqual(['__proto__']);
    const result = createSegmentValidator().validateCall({ ...nodeBatch().batch[0], context: JSON.parse('{"__proto__": {"polluted": true}}') as unknown }, NOW);
    expect(result.ok ? [] : result.problems.map((p) => `${p.code} ${p.path}`)).toEqual(['invalid_key $.context.__proto__']);
  });
});

describe('createSegmentValidator', () => {
  const validator = createSegmentValidator();

  it('accepts a realistic mixed batch', () => {
    const body = { batch: [...nodeBatch().batch, browserPage(), iosScreen(), identify, group, alias], sentAt: '2024-05-01T12:00:00.250Z' };
    const validation = validator.validateBatch(body, NOW);
    expect(validation).toMatchObject({ status: 'checked', accepted: 6, rejected: 0 });
    if (validation.status !== 'checked') return;
    const events = validation.results.map(accepted);
    expect(events.map((e) => e.event_type)).toEqual(['order_completed', 'page', 'screen', 'identify', 'group', 'alias']);
    expect(events[2]?.occurred_at).toBe('2024-05-01T11:59:30.000Z');
    expect(events.every((e) => e.received_at === '2024-05-01T12:00:01.000Z')).toBe(true);
  });

  it('reports problems at the Segment field the client sent', () => {
    const bad = [
      { ...nodeBatch().batch[0], messageId: 'node next 1' },
      { ...nodeBatch().batch[0], messageId: 'b', event: 42 },
      { ...nodeBatch().batch[0], messageId: 'c', timestamp: 'yesterday' },
      { ...nodeBatch().batch[0], messageId: 'd', userId: undefined },
      { ...browserPage(), messageId: 'e', context: { ...browserPage().context, userAgent: 5 } },
      { ...iosScreen(), messageId: 'f', context: { app: { version: 3 }, ip: 1 } },
      { ...identify, messageId: 'g', traits: 'pro' },
      { ...nodeBatch().batch[0], messageId: 'h', type: 'purchase' },
      { ...nodeBatch().batch[0], messageId: 'i', event: 'Order Completed Order Completed Order Completed Order Completed Order' },
    ];
    const validation = validator.validateBatch({ batch: bad }, NOW);
    if (validation.status !== 'checked') throw new Error('batch rejected');
    expect(validation.results.map((r) => (r.ok ? [] : r.problems.map((p) => `${p.code} ${p.path}`)))).toEqual([
      ['invalid_event_id $.batch[0].messageId'],
      ['wrong_type $.batch[1].event'],
      ['invalid_timestamp $.batch[2].timestamp'],
      ['missing_field $.batch[3].userId'],
      ['wrong_type $.batch[4].context.userAgent'],
      ['wrong_type $.batch[5].context.ip'],
      ['wrong_type $.batch[6].traits'],
      ['invalid_event_type $.batch[7].type'],
      ['invalid_event_type $.batch[8].event'],
    ]);
    expect(validation.results[7]?.ok === false && validation.results[7].event_id).toBe('h');
  });

  it('rejects duplicate messageIds after the first', () => {
    const call = nodeBatch().batch[0];
    const validation = validator.validateBatch({ batch: [call, call] }, NOW);
    if (validation.status !== 'checked') throw new Error('batch rejected');
    expect(validation.results.map((r) => (r.ok ? 'ok' : r.problems.map((p) => `${p.code} ${p.path}`).join()))).toEqual([
      'ok',
      'duplicate_event_id $.batch[1].messageId',
    ]);
  });

  it('merges batch-level context under each call context', () => {
    const body = { ...nodeBatch(), context: { ip: '198.51.100.9', library: { name: 'overridden' } } };
    const validation = validator.validateBatch(body, NOW);
    const event = validation.status === 'checked' ? accepted(validation.results[0]) : undefined;
    expect(event?.context).toEqual({ ip: '198.51.100.9', library: { name: '@segment/analytics-node', version: '2.1.3' } });
  });

  it('corrects client clock skew from sentAt when asked', () => {
    // The phone clock is 2 hours fast: it stamped the event 1 s before it sent the batch.
    const call = { ...iosScreen(), timestamp: '2024-05-01T13:59:59.000Z', sentAt: '2024-05-01T14:00:00.000Z' };
    expect(validator.validateCall(call, NOW).ok).toBe(false);
    const corrected = createSegmentValidator({ correctClockSkew: true }).validateCall(call, NOW);
    expect(accepted(corrected).occurred_at).toBe('2024-05-01T12:00:00.000Z');
  });

  it('checks properties against the schema of the normalised event type, at Segment paths', () => {
    const checkProperties = createSchemaPropertiesCheck({
      validator: createPropertiesValidator(),
      lookup: (type) => (type === 'order_completed' ? { id: 3, schema: { type: 'object', properties: { total: { type: 'number' } }, required: ['order_id'] } } : undefined),
    });
    const strict = createSegmentValidator({ checkProperties });
    const call = nodeBatch().batch[0];
    const bad = { ...call, properties: { ...call?.properties, total: '27.50' } };
    const validation = strict.validateBatch({ batch: [call, bad, identify] }, NOW);
    if (validation.status !== 'checked') throw new Error('batch rejected');
    expect(validation.results.map((r) => (r.ok ? 'ok' : r.problems.map((p) => `${p.code} ${p.path}`).join()))).toEqual([
      'ok',
      'duplicate_event_id $.batch[1].messageId',
      'unknown_event_type $.batch[2].type',
    ]);
    const alone = strict.validateCall(bad, NOW);
    expect(alone.ok ? [] : alone.problems.map((p) => `${p.code} ${p.path}`)).toEqual(['schema_violation $.properties.total']);
  });

  it.each([
    ['a bare array', [nodeBatch().batch[0]], 'not_an_object', '$'],
    ['no batch', { sentAt: 'x' }, 'missing_field', '$.batch'],
    ['a batch object', { batch: {} }, 'not_an_array', '$.batch'],
  ])('rejects %s whole', (_name, body, code, path) => {
    const validation = validator.validateBatch(body, NOW);
    expect(validation.status === 'rejected' ? validation.problems.map((p) => [p.code, p.path]) : []).toEqual([[code, path]]);
  });

  it('rejects more calls than maxBatchEvents', () => {
    const limited = createSegmentValidator({ limits: { maxBatchEvents: 1 } });
    const validation = limited.validateBatch({ batch: [identify, group] }, NOW);
    expect(validation.status === 'rejected' && validation.problems[0]?.code).toBe('batch_too_large');
  });
});
