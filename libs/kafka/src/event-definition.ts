import type { z } from 'zod';

/** One envelope `type` at one schema version, the topic it travels on, and its payload schema. */
export interface EventDefinition<S extends z.ZodType = z.ZodType> {
  type: string;
  version: number;
  topic: string;
  schema: S;
}

export function defineEvent<S extends z.ZodType>(
  type: string,
  version: number,
  topic: string,
  schema: S,
): EventDefinition<S> {
  return { type, version, topic, schema };
}

export type PayloadOf<D extends EventDefinition> = z.output<D['schema']>;
