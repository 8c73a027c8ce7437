import UAParser from 'ua-parser-js';

/** The user-agent part of the enrichment (see `Enrichment` in libs/schemas). */
export interface ParsedUserAgent {
  ua_browser: string | null;
  ua_browser_version: string | null;
  ua_os: string | null;
  ua_device_type: string | null;
}

const UNKNOWN: ParsedUserAgent = Object.freeze({ ua_browser: null, ua_browser_version: null, ua_os: null, ua_device_type: null });

// ua-parser-js leaves `device.type` undefined for desktops; these OS names mean one.
const DESKTOP_OS = new Set(['Windows', 'Mac OS', 'macOS', 'Linux', 'Ubuntu', 'Debian', 'Fedora', 'Chromium OS', 'FreeBSD', 'OpenBSD', 'NetBSD', 'Solaris']);

/** Parses one user agent with ua-parser-js (MIT, 1.x); null fields for what it does not recognise. */
export function parseUserAgent(ua: string): ParsedUserAgent {
  const result = new UAParser(ua).getResult();
  const os = result.os.name ?? null;
  return {
    ua_browser: result.browser.name ?? null,
    ua_browser_version: result.browser.version ?? null,
    ua_os: os,
    ua_device_type: result.device.type ?? (os !== null && DESKTOP_OS.has(os) ? 'desktop' : null),
  };
}

/**
 * A user-agent parser with an LRU cache: parsing costs tens of microseconds, and real traffic
 * repeats a few thousand agents. A hit only stamps its entry (no reordering: the key is a long
 * string, and every Map update hashes and compares it); when the cache overflows, the least
 * recently used quarter is dropped at once. `maxEntries` 0 disables the cache.
 */
export function createUserAgentParser(maxEntries: number): { parse(ua: unknown): ParsedUserAgent; readonly size: number } {
  const cache = new Map<string, { parsed: ParsedUserAgent; used: number }>();
  let clock = 0;

  function evictLeastRecentlyUsed(): void {
    const stamps = Float64Array.from(cache.values(), (e) => e.used).sort();
    // Stamps are unique, so this drops exactly the `drop` oldest entries.
    const drop = Math.max(1, Math.floor(stamps.length / 4));
    const keepFrom = stamps[drop] ?? Infinity;
    for (const [ua, entry] of cache) if (entry.used < keepFrom) cache.delete(ua);
  }

  return {
    parse(ua) {
      if (typeof ua !== 'string' || ua.length === 0) return UNKNOWN;
      const hit = cache.get(ua);
      if (hit !== undefined) {
        hit.used = ++clock;
        return hit.parsed;
      }
      const parsed = parseUserAgent(ua);
      if (maxEntries > 0) {
        if (cache.size >= maxEntries) evictLeastRecentlyUsed();
        cache.set(ua, { parsed, used: ++clock });
      }
      return parsed;
    },
    get size() {
      return cache.size;
    },
  };
}
