import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { EventDefinition, PayloadOf } from './event-definition';

/** The one message envelope of docs/architecture.md: every Kafka message body is exactly this. */
export interface Envelope<P = unknown> {
  id: string;
  type: string;
  version: number;
  siteId: string;
  occurredAt: string;
  traceparent?: string;
  payload: P;
}

const envelopeSchema = z.object({
  id: z.uuid(),
  type: z.string().min(1),
  version: z.number().int().positive(),
  siteId: z.string().regex(/^[1-9][0-9]{0,9}$/, 'siteId must be a site number'),
  occurredAt: z.iso.datetime({ offset: true }),
  traceparent: z
    .string()
    .regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/)
    .optional(),
  payload: z.unknown(),
});

export class InvalidEnvelopeError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid envelope: ${issues.join('; ')}`);
    this.name = 'InvalidEnvelopeError';
  }
}

function describe(error: z.ZodError, prefix: string): string[] {
  return error.issues.map(
    (i) => `${[prefix, ...i.path.map(String)].filter(Boolean).join('.')}: ${i.message}`,
  );
}

/** Knows every event type a process may produce or consume, and validates both ways. */
export class EventRegistry {
  private readonly byKey = new Map<string, EventDefinition>();

  constructor(definitions: readonly EventDefinition[]) {
    for (const def of definitions) this.byKey.set(`${def.type}@${def.version}`, def);
  }

  definition(type: string, version: number): EventDefinition | undefined {
    return this.byKey.get(`${type}@${version}`);
  }

  /** The topic an event type travels on (every version of a type shares it), if registered. */
  topicOfType(type: string): string | undefined {
    for (const def of this.byKey.values()) if (def.type === type) return def.topic;
    return undefined;
  }

  /** Builds a validated envelope; throws InvalidEnvelopeError if the payload breaks its schema. */
  create<D extends EventDefinition>(
    def: D,
    siteId: string,
    payload: PayloadOf<D>,
    options: { id?: string; traceparent?: string; occurredAt?: Date } = {},
  ): Envelope<PayloadOf<D>> {
    if (!this.definition(def.type, def.version)) {
      throw new InvalidEnvelopeError([`type ${def.type}@${def.version} is not registered`]);
    }
    const envelope: Envelope<PayloadOf<D>> = {
      id: options.id ?? randomUUID(),
      type: def.type,
      version: def.version,
      siteId,
      occurredAt: (options.occurredAt ?? new Date()).toISOString(),
      ...(options.traceparent ? { traceparent: options.traceparent } : {}),
      payload,
    };
    return this.validate(envelope) as Envelope<PayloadOf<D>>;
  }

  /** Validates an envelope object (already decoded) including its payload. */
  validate(candidate: unknown): Envelope {
    const outer = envelopeSchema.safeParse(candidate);
    if (!outer.success) throw new InvalidEnvelopeError(describe(outer.error, ''));
    const def = this.definition(outer.data.type, outer.data.version);
    if (!def)
      throw new InvalidEnvelopeError([`type ${outer.data.type}@${outer.data.version} is not registered`]);
    const inner = def.schema.safeParse(outer.data.payload);
    if (!inner.success) throw new InvalidEnvelopeError(describe(inner.error, 'payload'));
    return { ...outer.data, payload: inner.data };
  }

  /** Decodes and validates a Kafka message value. */
  decode(raw: Buffer | string | null): Envelope {
    if (raw === null) throw new InvalidEnvelopeError(['message has no value']);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString());
    } catch {
      throw new InvalidEnvelopeError(['value is not JSON']);
    }
    return this.validate(parsed);
  }

  topicOf(envelope: Envelope): string {
    const def = this.definition(envelope.type, envelope.version);
    if (!def) throw new InvalidEnvelopeError([`type ${envelope.type}@${envelope.version} is not registered`]);
    return def.topic;
  }
}
