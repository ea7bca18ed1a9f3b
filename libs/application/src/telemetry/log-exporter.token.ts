/** Nest injection token of the LogExporter port (`@runledger/domain`); provided only when the span export is configured. */
export const LOG_EXPORTER = Symbol('LogExporter');
