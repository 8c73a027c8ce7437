import { catalogAccess, queryCatalogProblems, readQueryCatalogInputs, type QueryCatalogInputs } from './trino-catalogs';

/** The repository's inputs, with one thing changed, so each check is shown to fail on its mistake. */
function withChange(change: (inputs: QueryCatalogInputs) => void): string {
  const inputs = readQueryCatalogInputs();
  inputs.catalogs = new Map([...inputs.catalogs].map(([name, props]) => [name, new Map(props)]));
  inputs.rules = JSON.parse(JSON.stringify(inputs.rules)) as QueryCatalogInputs['rules'];
  change(inputs);
  return queryCatalogProblems(inputs).join('\n');
}

describe("the query API's read-only catalog", () => {
  it('is read-only at the connector, shows the same tables as lake, and is all the query user may reach', () => {
    expect(queryCatalogProblems()).toEqual([]);
    const inputs = readQueryCatalogInputs();
    expect([inputs.pipelineCatalog, inputs.queryCatalog, inputs.queryUser]).toEqual(['lake', 'lake_readonly', 'pipeline_readonly']);
  });

  it('fails when the catalog file loses iceberg.security=read_only', () => {
    expect(withChange((i) => i.catalogs.get('lake_readonly')?.delete('iceberg.security'))).toMatch(/lake_readonly: iceberg.security=\(unset\), the query API's catalog must be read_only/);
    expect(withChange((i) => i.catalogs.get('lake_readonly')?.set('iceberg.security', 'allow_all'))).toMatch(/iceberg.security=allow_all/);
  });

  it('fails when it points at another JDBC catalog or warehouse than lake', () => {
    const problems = withChange((i) => {
      i.catalogs.get('lake_readonly')?.set('iceberg.jdbc-catalog.catalog-name', 'other');
      i.catalogs.get('lake_readonly')?.delete('iceberg.jdbc-catalog.default-warehouse-dir');
    });
    expect(problems).toMatch(/lake_readonly: iceberg.jdbc-catalog.catalog-name=other, lake has lake: the two catalogs must show the same tables/);
    expect(problems).toMatch(/lake_readonly: iceberg.jdbc-catalog.default-warehouse-dir=\(unset\)/);
  });

  it('fails when the query API defaults to a catalog without a file, or the rules open the writable catalog to its user', () => {
    expect(withChange((i) => (i.queryCatalog = 'lake_ro'))).toMatch(/no catalog file for the query API's catalog lake_ro/);
    // Regression: the rules used to give the read-only user `lake`, where table procedures are not checked.
    const problems = withChange((i) => i.rules.catalogs?.unshift({ user: 'pipeline_readonly', catalog: 'lake', allow: 'read-only' }));
    expect(problems).toMatch(/rules.json: pipeline_readonly gets "read-only" on lake; it may reach only lake_readonly/);
    expect(withChange((i) => (i.rules.catalogs = [{ allow: 'all' }]))).toMatch(/pipeline_readonly gets "all" on lake_readonly, not "read-only"/);
  });
});

describe('catalogAccess', () => {
  it.each([
    ['pipeline_readonly', 'lake_readonly', 'read-only'],
    ['pipeline_readonly', 'lake', 'none'],
    ['pipeline_readonly', 'lake_readonly_2', 'none'],
    ['pipeline', 'lake', 'all'],
    ['pipeline_readonly_2', 'lake', 'all'],
  ] as const)('gives %s on %s: %s (first match, whole-name patterns)', (user, catalog, allow) => {
    const rules = [
      { user: 'pipeline_readonly', catalog: 'lake_readonly', allow: 'read-only' as const },
      { group: 'admins', allow: 'all' as const },
      { user: 'pipeline_readonly', allow: 'none' as const },
      { allow: 'all' as const },
    ];
    expect(catalogAccess(rules, user, catalog)).toBe(allow);
  });
});
