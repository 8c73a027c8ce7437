import { PipelineError } from '@pipeline/runtime';
import { createSchemaRegistry } from './schema-registry';

function fakeFetch(routes: Record<string, () => Response>) {
  const calls: string[] = [];
  const fn = (async (url: string) => {
    const path = new URL(url).pathname.replace('/apis/ccompat/v7', '');
    calls.push(path);
    const route = routes[path];
    if (route === undefined) return new Response(JSON.stringify({ error_code: 40403 }), { status: 404 });
    return route();
  }) as unknown as typeof fetch;
  return { fn, calls };
}

const schema = JSON.stringify({ type: 'object' });

describe('schema registry client', () => {
  it('caches schemas by id for good, misses for a while, and the latest version for its TTL', async () => {
    let now = 0;
    const { fn, calls } = fakeFetch({
      '/schemas/ids/7': () => new Response(JSON.stringify({ schema, schemaType: 'JSON' })),
      '/subjects/p_page_view/versions/latest': () => new Response(JSON.stringify({ id: 8, version: 2, schema })),
    });
    const registry = createSchemaRegistry({ url: 'http://r/apis/ccompat/v7', subjectPrefix: 'p_', latestTtlMs: 1_000, missTtlMs: 500, fetch: fn, now: () => now });
    expect(await registry.byId(7)).toEqual({ id: 7, schema: { type: 'object' } });
    expect(await registry.byId(7)).toEqual({ id: 7, schema: { type: 'object' } });
    expect(await registry.byId(9)).toBeNull();
    expect(await registry.latest('page_view')).toEqual({ id: 8, schema: { type: 'object' } });
    expect([registry.cachedById(8), registry.cachedLatest('page_view')?.id, registry.cachedById(9)]).toEqual([{ id: 8, schema: { type: 'object' } }, 8, null]);
    now = 1_001;
    expect([registry.cachedLatest('page_view'), registry.cachedById(9), registry.cachedById(7)?.id]).toEqual([undefined, undefined, 7]);
    await registry.latest('page_view');
    expect(calls).toEqual(['/schemas/ids/7', '/schemas/ids/9', '/subjects/p_page_view/versions/latest', '/subjects/p_page_view/versions/latest']);
  });

  it('rejects with a retriable error when the registry is down or failing', async () => {
    const down = createSchemaRegistry({ url: 'http://r', subjectPrefix: '', latestTtlMs: 1, fetch: (async () => { throw new Error('ECONNREFUSED'); }) as unknown as typeof fetch });
    await expect(down.byId(1)).rejects.toMatchObject({ code: 'dependency_unavailable', retriable: true });
    const failing = createSchemaRegistry({ url: 'http://r', subjectPrefix: '', latestTtlMs: 1, fetch: fakeFetch({ '/schemas/ids/1': () => new Response('oops', { status: 503 }) }).fn });
    await expect(failing.byId(1)).rejects.toBeInstanceOf(PipelineError);
    expect(failing.cachedById(1)).toBeUndefined();
  });
});
