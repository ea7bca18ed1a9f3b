import type { LedgerSpan } from '@runledger/domain';
import { OTLP_REQUEST_MAX_CHARS, OTLP_REQUEST_MAX_SPANS, otlpRequestsOf } from './otlp-log-exporter';

const span = (i: number, text = ''): LedgerSpan => ({
  traceId: '0'.repeat(32), spanId: i.toString(16).padStart(16, '0'), name: 'execute_tool Bash', kind: 'internal', startMs: 0, endMs: 1,
  status: { code: 'ok' }, attributes: { 'gen_ai.tool.call.result': text },
});

describe('otlpRequestsOf', () => {
  it('cuts a batch into requests of at most OTLP_REQUEST_MAX_SPANS spans and OTLP_REQUEST_MAX_CHARS attribute characters, in order', () => {
    const many = Array.from({ length: 2 * OTLP_REQUEST_MAX_SPANS + 5 }, (_, i) => span(i));
    expect(otlpRequestsOf(many).map((r) => r.length)).toEqual([OTLP_REQUEST_MAX_SPANS, OTLP_REQUEST_MAX_SPANS, 5]);
    expect(otlpRequestsOf(many).flat()).toEqual(many);

    const big = 'x'.repeat(OTLP_REQUEST_MAX_CHARS / 4);
    const heavy = Array.from({ length: 9 }, (_, i) => span(i, big));
    expect(otlpRequestsOf(heavy).map((r) => r.length)).toEqual([3, 3, 3]); // a fourth would pass the limit with the keys
    const huge = [span(1), span(2, 'x'.repeat(OTLP_REQUEST_MAX_CHARS + 1)), span(3)];
    expect(otlpRequestsOf(huge).map((r) => r.map((s) => s.spanId.slice(-1)))).toEqual([['1'], ['2'], ['3']]); // alone, never dropped
    expect(otlpRequestsOf([])).toEqual([]);
  });
});
