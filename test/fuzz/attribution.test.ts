import { eventsOfRequest, isRecordedFailure, requestCorrelationId, withOwnCorrelationId } from './openapi-fuzzer';

/** Which events the fuzzer counts against a refused request: its own, never background work appended meanwhile. */
describe('fuzz: events counted against a refused request', () => {
  const exit = { metadata: { correlationId: '7f1c2d3e-0000-4000-8000-000000000001', actor: 'runledger', via: 'runtime-watcher' } };

  it('does not blame a background exit on a refusal answered before the request-context middleware (no X-Correlation-Id echoed)', () => {
    // A resume with malformed JSON is refused 400 by the body parser, which echoes no correlation id; the session's
    // agent exits meanwhile and the runtime watcher appends SessionExited under its own context.
    const headers = withOwnCorrelationId({ accept: 'application/json' }, 11, 42, new Set());
    const id = requestCorrelationId(headers['x-correlation-id'], null);
    expect(id).toBe('fz-11-42');
    expect(eventsOfRequest([exit], id)).toBe(0);
  });

  it('counts the events that carry the request\'s id, echoed or sent', () => {
    const own = { metadata: { correlationId: 'fz-11-42', actor: 'user:admin' } };
    expect(eventsOfRequest([exit, own], requestCorrelationId('fz-11-42', null))).toBe(1);
    expect(eventsOfRequest([exit, own], requestCorrelationId('a b', 'fz-11-42'))).toBe(1);
  });

  it('counts every API event when the id is unknown (a malformed one sent and none echoed), background work left out', () => {
    const api = { metadata: { correlationId: 'c3d0a3a0-0000-4000-8000-000000000002', actor: 'user:admin' } };
    expect(requestCorrelationId('a b', null)).toBeNull();
    expect(eventsOfRequest([exit, api], null)).toBe(1);
    expect(eventsOfRequest([exit], null)).toBe(0);
  });

  it('gives a repeated well-formed X-Correlation-Id a suffix of its own, and leaves a first or malformed one as it is', () => {
    const used = new Set<string>();
    expect(withOwnCorrelationId({ 'x-correlation-id': '12' }, 11, 1, used)['x-correlation-id']).toBe('12');
    expect(withOwnCorrelationId({ 'x-correlation-id': '12' }, 11, 2, used)['x-correlation-id']).toBe('12.2');
    expect(withOwnCorrelationId({ 'x-correlation-id': 'a b' }, 11, 3, used)['x-correlation-id']).toBe('a b');
    const long = '9'.repeat(99);
    withOwnCorrelationId({ 'x-correlation-id': long }, 11, 4, used);
    expect(withOwnCorrelationId({ 'x-correlation-id': long }, 11, 5, used)['x-correlation-id']).toBe('fz-11-5');
  });

  it('never sends the same well-formed id twice in a run', () => {
    const used = new Set<string>();
    const sent = ['12', '12', '-1', '-1', undefined, undefined, '12'].map((value, index) =>
      withOwnCorrelationId(value === undefined ? {} : { 'x-correlation-id': value }, 11, index, used)['x-correlation-id']);
    expect(new Set(sent).size).toBe(sent.length);
  });

  it('takes a launch or a replacement that failed after being accepted for a recorded outcome, and nothing else', () => {
    // A replace whose new orchestrator fails verification keeps the old one retiring with its reason (409), by design.
    expect(['ORCHESTRATOR.LAUNCH_FAILED', 'ORCHESTRATOR.REPLACE_INCOMPLETE'].map(isRecordedFailure)).toEqual([true, true]);
    expect(['ORCHESTRATOR.INVALID', 'REQUEST.INVALID', 'ORCHESTRATOR.RETIRING', undefined].map(isRecordedFailure)).toEqual([false, false, false, false]);
  });
});
