import { PipelineError, isRetriable } from './errors';

describe('isRetriable', () => {
  const socketError = (code: string) => Object.assign(new Error(code), { code });
  const cases: Array<[string, unknown, boolean]> = [
    ['null', null, false],
    ['a string', 'boom', false],
    ['an unknown error', new Error('boom'), false],
    ['a retriable PipelineError code', new PipelineError('dependency_unavailable', 'down'), true],
    ['a non-retriable PipelineError code', new PipelineError('invalid_input', 'bad'), false],
    ['an explicit override', new PipelineError('internal', 'x', { retriable: true }), true],
    ['kafkajs retriable flag', Object.assign(new Error('leader not available'), { name: 'KafkaJSProtocolError', retriable: true }), true],
    ['kafkajs non-retriable flag', Object.assign(new Error('bad'), { name: 'KafkaJSProtocolError', retriable: false }), false],
    ['ECONNREFUSED', socketError('ECONNREFUSED'), true],
    ['ECONNRESET', socketError('ECONNRESET'), true],
    ['ENOENT', socketError('ENOENT'), false],
    ['a socket error as cause', new Error('wrapped', { cause: socketError('ETIMEDOUT') }), true],
    ['an abort', Object.assign(new Error('aborted'), { name: 'AbortError' }), false],
  ];
  it.each(cases)('%s', (_label, err, expected) => {
    expect(isRetriable(err)).toBe(expected);
  });

  it('stops walking a cause cycle', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(isRetriable(a)).toBe(false);
  });
});
