import { chartResources, quantityMb, withChartHeapLimit } from './chart-resources';
import { createCleanup } from './cleanup';
import { uniqueName } from './names';
import { PIPELINE_APPS } from './pipeline';
import { runCommand, sampleRss } from './processes';
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

describe('runCommand', () => {
  it('resolves with stdout of a zero exit', async () => {
    await expect(runCommand(process.execPath, ['-e', 'process.stdout.write("out")'])).resolves.toBe('out');
  });

  it('rejects with the exit code and both streams on a non-zero exit', async () => {
    await expect(runCommand(process.execPath, ['-e', 'process.stdout.write("so"); process.stderr.write("se"); process.exit(3)'])).rejects.toThrow(/exited 3:\nso\nse/);
  });

  it('rejects when the command cannot be started', async () => {
    await expect(runCommand('/nonexistent/command', [])).rejects.toThrow(/ENOENT/);
  });
});

describe('sampleRss', () => {
  it('reports the largest RSS of a live process over its samples', async () => {
    const sampler = sampleRss(process.pid, 5);
    await new Promise((r) => setTimeout(r, 60));
    const { maxMb, samples } = sampler.stop();
    expect(samples).toBeGreaterThan(2);
    expect(maxMb).toBeGreaterThan(10);
    expect(maxMb).toBeLessThan(process.memoryUsage().rss / 1024 / 1024 + 50);
  });
});

describe('chart resources', () => {
  it('reads each app memory limit and heap limit from the Helm values, the heap below the limit', () => {
    for (const app of PIPELINE_APPS) {
      const { memoryLimitMb, heapMb } = chartResources(app);
      expect(heapMb).toBeGreaterThan(0);
      expect(heapMb as number).toBeLessThanOrEqual(0.8 * memoryLimitMb);
    }
    expect(chartResources('stream-processor').memoryLimitMb).toBe(768);
  });

  it('parses memory quantities and refuses others', () => {
    expect([quantityMb('768Mi'), quantityMb('2Gi'), quantityMb('1G'), quantityMb('1000M')].map(Math.round)).toEqual([768, 2048, 954, 954]);
    expect(() => quantityMb('512')).toThrow(/not a memory quantity/);
  });

  it('adds the heap limit to NODE_OPTIONS unless one is there already', () => {
    const heap = `--max-old-space-size=${chartResources('compactor').heapMb}`;
    expect(withChartHeapLimit('compactor', undefined)).toBe(heap);
    expect(withChartHeapLimit('compactor', '--expose-gc')).toBe(`--expose-gc ${heap}`);
    expect(withChartHeapLimit('compactor', '--max_old_space_size=99')).toBe('--max_old_space_size=99');
  });
});
