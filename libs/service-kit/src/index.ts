export * from './tokens';
export * from './readiness';
export * from './core.module';
export * from './messaging.service';
export * from './vault-client';
export * from './bootstrap';
export * from './http-errors';
export * from './site-replica';
