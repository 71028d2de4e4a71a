export * from './principal';
export * from './admin-tokens';
export * from './service-tokens';
export * from './decorators';
export * from './auth.guard';
export * from './auth.module';
export * from './concurrency-gate';
export * from './route-access';
