import { PipelineError } from '@pipeline/runtime';
import { TrinoQueryError, type TrinoErrorInfo } from '../trino/client';
import { ApiError, toApiError } from './api-error';

const trino = (errorName: string, errorType: string, location = true): TrinoQueryError =>
  new TrinoQueryError(
    { message: `line 2:5: ${errorName}`, errorCode: 1, errorName, errorType, ...(location ? { errorLocation: { lineNumber: 2, columnNumber: 5 } } : {}) } as TrinoErrorInfo,
    'q1',
  );

describe('toApiError', () => {
  it.each([
    ['a Trino syntax error', trino('SYNTAX_ERROR', 'USER_ERROR'), 400, 'syntax_error'],
    ['a Trino semantic error', trino('TABLE_NOT_FOUND', 'USER_ERROR'), 400, 'query_error'],
    ['a denied permission', trino('PERMISSION_DENIED', 'USER_ERROR'), 403, 'access_denied'],
    ['a Trino time limit', trino('EXCEEDED_TIME_LIMIT', 'INSUFFICIENT_RESOURCES'), 504, 'timeout'],
    ['a Trino scan limit', trino('EXCEEDED_SCAN_LIMIT', 'INSUFFICIENT_RESOURCES'), 422, 'scan_limit_exceeded'],
    ['a memory limit', trino('EXCEEDED_GLOBAL_MEMORY_LIMIT', 'INSUFFICIENT_RESOURCES'), 422, 'resource_limit_exceeded'],
    ['Trino starting', trino('SERVER_STARTING_UP', 'INTERNAL_ERROR'), 503, 'trino_unavailable'],
    ['a Trino internal error', trino('GENERIC_INTERNAL_ERROR', 'INTERNAL_ERROR'), 502, 'trino_error'],
    ['Trino unreachable', new PipelineError('dependency_unavailable', 'ECONNREFUSED'), 503, 'trino_unavailable'],
    ['a client that left', new PipelineError('aborted', 'x'), 499, 'client_closed'],
    ['a body too large', Object.assign(new Error('too large'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }), 413, 'body_too_large'],
    ['a schema violation', Object.assign(new Error('body/sql must be string'), { validation: [{}], statusCode: 400 }), 400, 'invalid_request'],
    ['a bug', new TypeError('cannot read x of undefined'), 500, 'internal'],
  ])('maps %s', (_label, err, status, code) => {
    const apiError = toApiError(err);
    expect([apiError.status, apiError.code]).toEqual([status, code]);
    const body = JSON.stringify(apiError.body());
    expect(body).not.toMatch(/\bat \S+ \(|stack|cannot read x/);
  });

  it("keeps Trino's message and position, and its error name", () => {
    expect(toApiError(trino('COLUMN_NOT_FOUND', 'USER_ERROR')).body()).toEqual({
      error: {
        code: 'query_error',
        message: 'line 2:5: COLUMN_NOT_FOUND',
        position: { line: 2, column: 5 },
        trino: { errorName: 'COLUMN_NOT_FOUND', errorType: 'USER_ERROR', queryId: 'q1' },
      },
    });
  });

  it('passes an ApiError through', () => {
    const err = new ApiError('rate_limited', 'slow down');
    expect(toApiError(err)).toBe(err);
  });
});
