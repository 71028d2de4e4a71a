export * from './server';
export * from './world';
