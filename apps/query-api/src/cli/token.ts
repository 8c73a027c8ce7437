/**
 * Makes a new API token and prints the entry for the token file: only the hash goes into the file,
 * the token itself is shown once, here.
 *
 *   npm run query-api:token -- --name reporting --scopes saved [--rate 600] [--concurrent 4]
 */
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { SCOPES, generateToken, hashToken, type Scope } from '../auth/tokens';

function main(): number {
  const { values } = parseArgs({
    options: {
      name: { type: 'string' },
      scopes: { type: 'string', default: 'saved' },
      rate: { type: 'string' },
      concurrent: { type: 'string' },
    },
  });
  const scopes = (values.scopes ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (!values.name || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(values.name) || scopes.length === 0 || unknown.length > 0) {
    console.error(`usage: npm run query-api:token -- --name NAME --scopes ${SCOPES.join(',')} [--rate PER_MINUTE] [--concurrent N]`);
    if (unknown.length > 0) console.error(`unknown scopes: ${unknown.join(', ')}`);
    return 2;
  }
  const token = generateToken();
  const entry = {
    name: values.name,
    sha256: hashToken(token),
    scopes: scopes as Scope[],
    ...(values.rate ? { ratePerMinute: Number(values.rate) } : {}),
    ...(values.concurrent ? { maxConcurrent: Number(values.concurrent) } : {}),
  };
  console.log(`token (shown once, give it to the caller): ${token}\n`);
  console.log('add to the token file (QUERY_API_TOKENS_FILE) under `tokens:`');
  console.log(stringify([entry]).trimEnd());
  return 0;
}

process.exitCode = main();
