export * from './budget.events';
export * from './budget.policy';
