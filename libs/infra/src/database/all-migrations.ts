import { eventStoreMigration } from '../event-store/postgres/event-store.schema';
import { eventStoreAppendV2Migration } from '../event-store/postgres/event-store-v2.schema';
import { eventStoreAppendV3Migration } from '../event-store/postgres/event-store-v3.schema';
import { idempotencyMigration } from '../idempotency/idempotency.schema';
import { leasesMigration } from '../leases/leases.schema';
import { custodyReadModelMigration } from '../read-models/custody.schema';
import { deadLettersMigration, readModelsCallStateMigration, readModelsMigration } from '../read-models/read-models.schema';
import { searchTextOnlyMigration, usageSearchMigration } from '../read-models/usage-search.projection';
import { secretsMigration } from '../secrets/secrets.schema';
import { usersMigration } from '../auth/users.schema';
import { logExportMigration } from '../telemetry/log-export.store';
import { notificationsMigration } from '../notifications/notification-outbox';
import { Migration } from './migrations';

/** Every schema migration of runledger, in version order; applied at start-up by InfraModule. */
export const ALL_MIGRATIONS: readonly Migration[] = [eventStoreMigration, eventStoreAppendV2Migration, eventStoreAppendV3Migration, readModelsMigration, idempotencyMigration, leasesMigration, readModelsCallStateMigration, deadLettersMigration, custodyReadModelMigration, secretsMigration, usersMigration, usageSearchMigration, searchTextOnlyMigration, logExportMigration, notificationsMigration].sort((a, b) => a.version - b.version);
