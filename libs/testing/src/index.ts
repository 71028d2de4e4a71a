export * from './stack';
export * from './wait';
export * from './service-process';
export * from './mail-inbox';
export * from './kafka-probe';
export * from './service-env';
export * from './identity';
export * from './site-sek';
