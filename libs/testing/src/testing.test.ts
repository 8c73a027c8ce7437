import { createCleanup } from './cleanup';
import { uniqueName } from './names';
import { waitFor } from './wait-for';

describe('uniqueName', () => {
  it('is unique and safe for Kafka, S3 and Trino names', () => {
    const names = new Set(Array.from({ length: 200 }, () => uniqueName('Smoke-Test')));
    expect(names.size).toBe(200);
    for (const name of names) expect(name).toMatch(/^smoke_test_[a-z0-9_]+$/);
  });
});

describe('waitFor', () => {
  it('resolves with the first truthy value, treating throws as not yet', async () => {
    let calls = 0;
    const value = await waitFor(() => {
      calls++;
      if (calls < 3) throw new Error('not yet');
      return calls === 4 ? 'done' : false;
    }, { intervalMs: 1 });
    expect(value).toBe('done');
  });

  it('times out naming what it waited for and the last error', async () => {
    await expect(
      waitFor(() => Promise.reject(new Error('connection refused')), { timeoutMs: 30, intervalMs: 5, what: 'the broker' }),
    ).rejects.toThrow(/waiting for the broker; last error: connection refused/);
  });
});

describe('createCleanup', () => {
  it('runs every cleanup in reverse order and rethrows the first failure', async () => {
    const order: string[] = [];
    const cleanup = createCleanup();
    cleanup.add(() => order.push('topic'));
    cleanup.add(() => {
      order.push('table');
      throw new Error('drop failed');
    });
    cleanup.add(() => order.push('bucket'));
    await expect(cleanup.run()).rejects.toThrow('drop failed');
    expect(order).toEqual(['bucket', 'table', 'topic']);
  });
});
