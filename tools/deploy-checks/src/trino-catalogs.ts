import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { LOCAL_STACK } from '@pipeline/config';
import { APPS, envFields } from './env-model';
import { TRINO_CATALOG_DIR, TRINO_CATALOG_FILE, TRINO_RULES_FILE } from './paths';

/** The catalog files of deploy/trino/catalog, sorted; each becomes the Trino catalog named like the file. */
export function trinoCatalogFiles(dir = TRINO_CATALOG_DIR): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.properties'))
    .sort()
    .map((name) => join(dir, name));
}

/** key=value lines of a Java properties file. */
export function propertiesOf(text: string): Map<string, string> {
  const props = new Map<string, string>();
  for (const m of text.matchAll(/^\s*([a-z][a-z0-9.-]*)\s*=\s*(.*?)\s*$/gm)) if (m[1]) props.set(m[1], m[2] ?? '');
  return props;
}

/** `${ENV:NAME}` references of every shared Trino catalog file, sorted and without repeats. */
export function catalogEnvNames(files = trinoCatalogFiles()): string[] {
  const names = new Set<string>();
  for (const file of files) for (const m of readFileSync(file, 'utf8').matchAll(/\$\{ENV:([A-Z0-9_]+)\}/g)) if (m[1]) names.add(m[1]);
  return [...names].sort();
}

/** One entry of the `catalogs` section of Trino's file-based access control rules. */
export interface CatalogRule {
  user?: string;
  role?: string;
  group?: string;
  catalog?: string;
  allow: 'all' | 'read-only' | 'none' | boolean;
}

/**
 * What the `catalogs` rules give `user` (no groups, no roles) on `catalog`: the first rule that
 * matches wins, as in Trino; names are matched as whole-string regular expressions.
 */
export function catalogAccess(rules: CatalogRule[], user: string, catalog: string): CatalogRule['allow'] {
  const matches = (pattern: string | undefined, value: string) => pattern === undefined || new RegExp(`^(?:${pattern})$`).test(value);
  const rule = rules.find((r) => r.role === undefined && r.group === undefined && matches(r.user, user) && matches(r.catalog, catalog));
  return rule?.allow ?? 'none';
}

/** Properties that decide which tables a catalog shows: the connector, the Iceberg JDBC catalog and the file system. */
const LOCATION_PROPERTY = /^(connector\.name|iceberg\.catalog\.type|iceberg\.jdbc-catalog\..+|fs\..+|s3\..+)$/;

export interface QueryCatalogInputs {
  /** Catalog name -> properties of its file. */
  catalogs: Map<string, Map<string, string>>;
  rules: { catalogs?: CatalogRule[] };
  /** The pipeline's writable catalog (the compactor's TRINO_CATALOG). */
  pipelineCatalog: string;
  /** The query API's defaults: TRINO_QUERY_USER and TRINO_QUERY_CATALOG. */
  queryUser: string;
  queryCatalog: string;
}

/** The shared catalog files and rules, and the query API's defaults, as the repository has them. */
export function readQueryCatalogInputs(): QueryCatalogInputs {
  const catalogs = new Map(trinoCatalogFiles().map((file) => [basename(file, '.properties'), propertiesOf(readFileSync(file, 'utf8'))]));
  const queryApi = APPS.find((a) => a.name === 'query-api');
  if (!queryApi) throw new Error('no query-api in APPS');
  const fields = envFields(queryApi.schema);
  const defaultOf = (name: string) => fields.find((f) => f.name === name)?.defaultValue ?? '';
  return {
    catalogs,
    rules: JSON.parse(readFileSync(TRINO_RULES_FILE, 'utf8')) as QueryCatalogInputs['rules'],
    pipelineCatalog: basename(TRINO_CATALOG_FILE, '.properties'),
    queryUser: defaultOf('TRINO_QUERY_USER'),
    queryCatalog: defaultOf('TRINO_QUERY_CATALOG'),
  };
}

/**
 * The query API's catalog must be read-only at the connector (the only check Trino 476 makes on
 * ALTER TABLE ... EXECUTE), show the same tables as the pipeline's catalog, and be the only catalog
 * the file rules give the query API's user. One line per problem.
 */
export function queryCatalogProblems(inputs: QueryCatalogInputs = readQueryCatalogInputs()): string[] {
  const problems: string[] = [];
  const { catalogs, pipelineCatalog, queryCatalog, queryUser } = inputs;
  const lake = catalogs.get(pipelineCatalog);
  const readOnly = catalogs.get(queryCatalog);
  if (!lake) problems.push(`no catalog file for the pipeline's catalog ${pipelineCatalog}`);
  if (!readOnly) problems.push(`no catalog file for the query API's catalog ${queryCatalog} (TRINO_QUERY_CATALOG)`);
  if (queryCatalog !== LOCAL_STACK.trino.readOnlyCatalog) problems.push(`the query API's TRINO_QUERY_CATALOG ${queryCatalog} is not the local stack's read-only catalog ${LOCAL_STACK.trino.readOnlyCatalog}`);
  if (readOnly && readOnly.get('iceberg.security')?.toLowerCase() !== 'read_only') {
    problems.push(`${queryCatalog}: iceberg.security=${readOnly.get('iceberg.security') ?? '(unset)'}, the query API's catalog must be read_only`);
  }
  if (lake && readOnly) {
    for (const [key, value] of lake) {
      if (LOCATION_PROPERTY.test(key) && readOnly.get(key) !== value) problems.push(`${queryCatalog}: ${key}=${readOnly.get(key) ?? '(unset)'}, ${pipelineCatalog} has ${value}: the two catalogs must show the same tables`);
    }
  }
  const rules = inputs.rules.catalogs ?? [];
  const access = catalogAccess(rules, queryUser, queryCatalog);
  if (access !== 'read-only') problems.push(`rules.json: ${queryUser} gets "${String(access)}" on ${queryCatalog}, not "read-only"`);
  for (const other of new Set([pipelineCatalog, ...catalogs.keys(), 'system', 'tpch'])) {
    if (other === queryCatalog) continue;
    const otherAccess = catalogAccess(rules, queryUser, other);
    if (otherAccess !== 'none' && otherAccess !== false) problems.push(`rules.json: ${queryUser} gets "${String(otherAccess)}" on ${other}; it may reach only ${queryCatalog}`);
  }
  return problems;
}
