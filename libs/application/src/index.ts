export * from './application.module';
export * from './event-sourcing/command-context';
export * from './event-sourcing/decider-streams';
export * from './system/system-stream.service';
