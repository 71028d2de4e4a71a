export * from './stack';
export * from './wait';
export * from './service-process';
export * from './mail-inbox';
