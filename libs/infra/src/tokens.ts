/** Nest injection token of the SqlDatabase (the one database of the event store and read models). */
export const SQL_DATABASE = Symbol('SqlDatabase');
/** Nest injection token of the EventStore port. */
export const EVENT_STORE = Symbol('EventStore');
/** Nest injection token of the RunledgerConfig. */
export const RUNLEDGER_CONFIG = Symbol('RunledgerConfig');
/** Nest injection token of the resolved ApiToken. */
export const API_TOKEN = Symbol('ApiToken');
