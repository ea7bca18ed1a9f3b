export * from './custody.schema';
export * from './read-models.schema';
export * from './read-model.projector';
export * from './projection-checkpoint';
export * from './read-models';
export * from './snapshot-repair';
export * from './session-snapshots';
