export * from './data-source';
export * from './messaging-tables.migration';
export * from './idempotency-store';
export * from './outbox';
export * from './outbox-relay';
export * from './group-commit';
export * from './attempt-throttle';
export * from './sql-migration';
