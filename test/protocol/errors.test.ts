import { describe, expect, it } from 'vitest';
import { BunsanError, ERROR_STATUS, fromEnvelope, isErrorCode } from '../../protocol/errors.ts';

describe('BunsanError', () => {
  it('carries a stable code and its HTTP status', () => {
    const e = new BunsanError('chunk_unavailable', 'chunk 3 unavailable', { index: 3 });
    expect(e).toBeInstanceOf(Error);
    expect(e.status).toBe(502);
    expect(e.toEnvelope()).toEqual({ error: { code: 'chunk_unavailable', message: 'chunk 3 unavailable', details: { index: 3 } } });
    expect(new BunsanError('not_found', 'x').toEnvelope()).toEqual({ error: { code: 'not_found', message: 'x' } });
    for (const [code, status] of Object.entries(ERROR_STATUS)) expect(new BunsanError(code as never, '').status).toBe(status);
  });

  it('round-trips through an envelope, and falls back on the status for anything else', () => {
    const e = fromEnvelope(416, new BunsanError('range_not_satisfiable', 'r', { size: 1 }).toEnvelope());
    expect(e).toMatchObject({ code: 'range_not_satisfiable', message: 'r', details: { size: 1 } });
    expect(fromEnvelope(404, 'nope').code).toBe('not_found');
    expect(fromEnvelope(503, { error: { code: 'made_up', message: 'm' } }).code).toBe('node_unreachable');
    expect(fromEnvelope(400, null).code).toBe('bad_request');
    expect(isErrorCode('toString')).toBe(false);
    expect(isErrorCode('forbidden')).toBe(true);
  });
});
