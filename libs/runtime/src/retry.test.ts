import { PipelineError } from './errors';
import { retry } from './retry';

const transient = () => new PipelineError('dependency_unavailable', 'down');

describe('retry', () => {
  it('returns the first success and reports each retry', async () => {
    const seen: number[] = [];
    let calls = 0;
    const value = await retry(
      async () => {
        calls++;
        if (calls < 3) throw transient();
        return 'ok';
      },
      { initialDelayMs: 1, onRetry: (_e, attempt) => seen.push(attempt) },
    );
    expect(value).toBe('ok');
    expect(calls).toBe(3);
    expect(seen).toEqual([1, 2]);
  });

  it('does not retry a non-retriable error', async () => {
    let calls = 0;
    await expect(
      retry(async () => {
        calls++;
        throw new PipelineError('invalid_input', 'bad');
      }),
    ).rejects.toMatchObject({ code: 'invalid_input' });
    expect(calls).toBe(1);
  });

  it('gives up after the attempt limit with the last error', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw transient();
        },
        { attempts: 4, initialDelayMs: 1 },
      ),
    ).rejects.toMatchObject({ code: 'dependency_unavailable' });
    expect(calls).toBe(4);
  });

  it('keeps backoff between half and all of the exponential ceiling, capped', async () => {
    const delays: number[] = [];
    await expect(
      retry(
        async () => {
          throw transient();
        },
        { attempts: 6, initialDelayMs: 1, maxDelayMs: 4, random: () => 1, onRetry: (_e, _a, d) => delays.push(d) },
      ),
    ).rejects.toThrow();
    expect(delays).toEqual([1, 2, 4, 4, 4]);
  });

  it('stops waiting when aborted', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const promise = retry(
      async () => {
        throw transient();
      },
      { attempts: 10, initialDelayMs: 10_000, signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 20);
    await expect(promise).rejects.toMatchObject({ code: 'aborted' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
