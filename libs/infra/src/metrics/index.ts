export * from './runledger-metrics';
export * from './instrumented-event-store';
