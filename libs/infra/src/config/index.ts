export * from './runledger-config';
