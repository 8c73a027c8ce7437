import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ApiError } from '../http/api-error';

export const SCOPES = ['sql', 'saved', 'admin'] as const;
/** `sql`: ad-hoc SQL and the catalog; `saved`: list and run saved queries; `admin`: everything, audit and cache included. */
export type Scope = (typeof SCOPES)[number];

const tokenSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, _ . -, at most 64'),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'the hex SHA-256 of the token (npm run query-api:token)'),
    scopes: z.array(z.enum(SCOPES)).min(1),
    ratePerMinute: z.number().int().min(1).optional(),
    maxConcurrent: z.number().int().min(1).optional(),
  })
  .strict();

const listSchema = z.array(tokenSchema);

export type TokenDefinition = z.infer<typeof tokenSchema>;

/** Who is calling: the token's name (never the token), its scopes and limits. */
export interface Principal {
  name: string;
  scopes: ReadonlySet<Scope>;
  ratePerMinute: number;
  maxConcurrent: number;
}

/** A new random bearer token (256 bits), prefixed so it is recognisable in a secret scanner. */
export function generateToken(): string {
  return `qapi_${randomBytes(32).toString('base64url')}`;
}

/** Hex SHA-256 of a token: what the token file stores. A fast hash suits random 256-bit tokens. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Parses token definitions from YAML or JSON text; throws with every problem named. */
export function parseTokenDefinitions(text: string, source: string): TokenDefinition[] {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new Error(`${source}: not YAML or JSON: ${(err as Error).message}`);
  }
  // Either a list of tokens or `{ tokens: [...] }`.
  const list = raw !== null && typeof raw === 'object' && !Array.isArray(raw) && 'tokens' in raw ? (raw as { tokens: unknown }).tokens : (raw ?? []);
  const result = listSchema.safeParse(list);
  if (!result.success) {
    throw new Error(`${source}: ${result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return result.data;
}

/** Token definitions from the configured file and inline JSON. */
export function loadTokenDefinitions(opts: { file?: string | undefined; inline?: string | undefined }): TokenDefinition[] {
  const definitions: TokenDefinition[] = [];
  if (opts.file) definitions.push(...parseTokenDefinitions(readFileSync(opts.file, 'utf8'), opts.file));
  if (opts.inline) definitions.push(...parseTokenDefinitions(opts.inline, 'QUERY_API_TOKENS'));
  return definitions;
}

const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/;

export class TokenStore {
  private readonly byHash = new Map<string, Principal>();

  constructor(definitions: TokenDefinition[], defaults: { ratePerMinute: number; maxConcurrent: number }) {
    const names = new Set<string>();
    for (const def of definitions) {
      if (names.has(def.name)) throw new Error(`token name ${def.name} is defined twice`);
      if (this.byHash.has(def.sha256)) throw new Error(`token ${def.name} has the same hash as another token`);
      names.add(def.name);
      this.byHash.set(def.sha256, {
        name: def.name,
        scopes: new Set(def.scopes),
        ratePerMinute: def.ratePerMinute ?? defaults.ratePerMinute,
        maxConcurrent: def.maxConcurrent ?? defaults.maxConcurrent,
      });
    }
  }

  get size(): number {
    return this.byHash.size;
  }

  /**
   * The principal of an `Authorization: Bearer <token>` header. Throws a 401 ApiError when the
   * header is missing, malformed or names no known token. Only hashes are compared.
   */
  authenticate(header: string | undefined): Principal {
    if (!header) {
      throw new ApiError('unauthorized', 'send an API token: Authorization: Bearer <token>', { headers: { 'WWW-Authenticate': 'Bearer realm="query-api"' } });
    }
    const match = BEARER.exec(header);
    const token = match?.[1];
    const principal = token ? this.byHash.get(hashToken(token)) : undefined;
    if (!principal) {
      throw new ApiError('invalid_token', 'the API token is not valid', { headers: { 'WWW-Authenticate': 'Bearer realm="query-api", error="invalid_token"' } });
    }
    return principal;
  }
}

/** Throws a 403 ApiError unless `principal` holds `scope` (admin holds every scope). */
export function requireScope(principal: Principal, scope: Scope): void {
  if (principal.scopes.has(scope) || principal.scopes.has('admin')) return;
  throw new ApiError('insufficient_scope', `this token lacks the "${scope}" scope`, {
    headers: { 'WWW-Authenticate': `Bearer realm="query-api", error="insufficient_scope", scope="${scope}"` },
  });
}
