export * from './redaction';
export * from './logger';
export * from './telemetry';
export * from './metrics';
