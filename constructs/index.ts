// The public API of the cdk8s library.
export * from './key-server-app';
export * from './key-server-tls';
export * from './rbac-bundle';
export * from './labels';
export * from './monitoring-api';
