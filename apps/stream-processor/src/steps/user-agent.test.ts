import { createUserAgentParser, parseUserAgent } from './user-agent';

describe('user agent enrichment', () => {
  it.each([
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36',
      { ua_browser: 'Chrome', ua_browser_version: '128.0.0.0', ua_os: 'Windows', ua_device_type: 'desktop' },
    ],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      { ua_browser: 'Mobile Safari', ua_browser_version: '17.5', ua_os: 'iOS', ua_device_type: 'mobile' },
    ],
    [
      'Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0 Safari/537.36',
      { ua_browser: 'Chrome', ua_browser_version: '128.0', ua_os: 'Android', ua_device_type: 'tablet' },
    ],
    ['curl/8.5.0', { ua_browser: null, ua_browser_version: null, ua_os: null, ua_device_type: null }],
  ])('parses %s', (ua, expected) => {
    expect(parseUserAgent(ua)).toEqual(expected);
  });

  it('returns nulls for a missing or non-string agent', () => {
    const parser = createUserAgentParser(10);
    for (const ua of [undefined, null, 42, '']) expect(parser.parse(ua)).toEqual({ ua_browser: null, ua_browser_version: null, ua_os: null, ua_device_type: null });
    expect(parser.size).toBe(0);
  });

  it('caches at most maxEntries agents, dropping the least recently used', () => {
    const parser = createUserAgentParser(2);
    const a = parser.parse('Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0');
    parser.parse('agent-b');
    expect(parser.parse('Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0')).toBe(a);
    parser.parse('agent-c');
    expect(parser.size).toBe(2);
    // a was used after b, so b was dropped and a is still the cached object.
    expect(parser.parse('Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0')).toBe(a);
    expect(a).toMatchObject({ ua_browser: 'Firefox', ua_os: 'Linux', ua_device_type: 'desktop' });
  });

  it('on overflow drops the least recently used quarter and keeps the agents in use', () => {
    const parser = createUserAgentParser(8);
    const agents = Array.from({ length: 8 }, (_, i) => `agent-${i}`);
    const first = agents.map((ua) => parser.parse(ua));
    // Use 0..5 again, so 6 and 7 are the least recently used.
    for (const ua of agents.slice(0, 6)) parser.parse(ua);
    parser.parse('agent-new');
    expect(parser.size).toBe(7);
    agents.slice(0, 6).forEach((ua, i) => expect(parser.parse(ua)).toBe(first[i]));
    expect(parser.parse('agent-6')).not.toBe(first[6]);
    expect(parser.parse('agent-6')).toEqual(first[6]);
  });
});
