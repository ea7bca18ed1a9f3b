export * from './file-effects.events';
export * from './file-effects.commands';
export * from './file-effects.errors';
export * from './file-attribution';
