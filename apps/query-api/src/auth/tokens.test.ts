import { ApiError } from '../http/api-error';
import { TokenStore, generateToken, hashToken, parseTokenDefinitions, requireScope } from './tokens';

const token = 'qapi_test-token-for-unit-tests';
const store = new TokenStore(
  [
    { name: 'reporting', sha256: hashToken(token), scopes: ['saved'] },
    { name: 'ops', sha256: hashToken('qapi_ops'), scopes: ['admin'], ratePerMinute: 5, maxConcurrent: 1 },
  ],
  { ratePerMinute: 60, maxConcurrent: 2 },
);

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err as ApiError;
  }
  throw new Error('expected a refusal');
};

describe('tokens', () => {
  it('generates distinct 256-bit tokens and stores only their hash', () => {
    const a = generateToken();
    expect(a).toMatch(/^qapi_[A-Za-z0-9_-]{43}$/);
    expect(generateToken()).not.toBe(a);
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('authenticates a known bearer token to its name, scopes and limits', () => {
    expect(store.authenticate(`Bearer ${token}`)).toMatchObject({ name: 'reporting', ratePerMinute: 60, maxConcurrent: 2 });
    expect(store.authenticate('Bearer qapi_ops')).toMatchObject({ name: 'ops', ratePerMinute: 5, maxConcurrent: 1 });
  });

  it.each([
    ['no header', undefined, 'unauthorized', 'Bearer realm="query-api"'],
    ['a wrong token', 'Bearer qapi_wrong', 'invalid_token', 'Bearer realm="query-api", error="invalid_token"'],
    ['another scheme', `Basic ${token}`, 'invalid_token', 'Bearer realm="query-api", error="invalid_token"'],
    ['a token with a space', `Bearer ${token} x`, 'invalid_token', 'Bearer realm="query-api", error="invalid_token"'],
    ['a huge token', `Bearer ${'x'.repeat(10_000)}`, 'invalid_token', 'Bearer realm="query-api", error="invalid_token"'],
  ])('answers 401 to %s', (_label, header, code, challenge) => {
    const error = refusal(() => store.authenticate(header));
    expect(error).toMatchObject({ status: 401, code });
    expect(error.extra.headers?.['WWW-Authenticate']).toBe(challenge);
  });

  it('answers 403 without the scope; admin holds every scope', () => {
    const reporting = store.authenticate(`Bearer ${token}`);
    expect(() => requireScope(reporting, 'saved')).not.toThrow();
    expect(refusal(() => requireScope(reporting, 'sql'))).toMatchObject({ status: 403, code: 'insufficient_scope' });
    const ops = store.authenticate('Bearer qapi_ops');
    for (const scope of ['sql', 'saved', 'admin'] as const) expect(() => requireScope(ops, scope)).not.toThrow();
  });

  it('reads YAML and JSON token files and names every problem', () => {
    const yaml = `tokens:\n  - name: a\n    sha256: ${hashToken('a')}\n    scopes: [sql]\n`;
    expect(parseTokenDefinitions(yaml, 'tokens.yaml')).toEqual([{ name: 'a', sha256: hashToken('a'), scopes: ['sql'] }]);
    expect(parseTokenDefinitions(JSON.stringify([{ name: 'b', sha256: hashToken('b'), scopes: ['saved'] }]), 'env')).toHaveLength(1);
    expect(() => parseTokenDefinitions('[{"name":"c","sha256":"nothex","scopes":["root"],"token":"x"}]', 'env')).toThrow(/env: .*0\.sha256.*0\.scopes.*token/s);
  });

  it('refuses two tokens with one name or one hash', () => {
    const def = { name: 'a', sha256: hashToken('a'), scopes: ['sql' as const] };
    expect(() => new TokenStore([def, { ...def, sha256: hashToken('b') }], { ratePerMinute: 1, maxConcurrent: 1 })).toThrow('defined twice');
    expect(() => new TokenStore([def, { ...def, name: 'b' }], { ratePerMinute: 1, maxConcurrent: 1 })).toThrow('same hash');
  });
});
