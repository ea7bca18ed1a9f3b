import { performance } from 'node:perf_hooks';
import type { AppendResult, EventStore, ExpectedRevision, NewEvent } from '../event-store/event-store.port';
import { RunledgerMetrics, streamKindOf } from './runledger-metrics';

/** Called after each successful append (for the structured append log); must not throw. */
export type AppendObserver = (streamId: string, events: NewEvent[], result: AppendResult, seconds: number) => void;

/**
 * Decorates an EventStore so that every `appendToStream` feeds `runledger_appends_total`,
 * `runledger_appended_events_total`, `runledger_append_failures_total` and `runledger_append_duration_seconds`, then
 * `onAppended`. Every other member of the port is the store's own (a Proxy, so members added to the port later pass
 * through untouched and `instanceof` still holds); the store's SQL is not touched.
 */
export const instrumentEventStore = <S extends EventStore>(store: S, metrics: RunledgerMetrics, onAppended?: AppendObserver): S => {
  const appendToStream = async (streamId: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult> => {
    const labels = { stream_kind: streamKindOf(streamId) };
    const started = performance.now();
    let result: AppendResult;
    try {
      result = await store.appendToStream(streamId, events, expected);
    } catch (error) {
      metrics.appendDuration.observe(labels, (performance.now() - started) / 1000);
      metrics.appendFailures.inc(labels);
      throw error;
    }
    const seconds = (performance.now() - started) / 1000;
    metrics.appendDuration.observe(labels, seconds);
    metrics.appends.inc(labels);
    if (!result.idempotent) metrics.appendedEvents.inc(labels, events.length);
    try {
      onAppended?.(streamId, events, result, seconds);
    } catch {
      // Observability must never fail a committed append.
    }
    return result;
  };
  return new Proxy(store, {
    get(target, property) {
      if (property === 'appendToStream') return appendToStream;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
};
