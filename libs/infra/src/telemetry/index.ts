export * from './otlp-log-exporter';
export * from './log-export.store';
