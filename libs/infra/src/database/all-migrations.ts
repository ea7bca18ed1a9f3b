import { eventStoreMigration } from '../event-store/postgres/event-store.schema';
import { Migration } from './migrations';

/** Every schema migration of runledger, in version order; applied at start-up by InfraModule. */
export const ALL_MIGRATIONS: readonly Migration[] = [eventStoreMigration];
