import { Inject, type Type } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  EventConsumer,
  type EnvelopeContext,
  type EventDefinition,
  type EventEnvelope,
  type EventHandlerOptions,
} from '@cloud-connect/kafka';
import type { EntityManager } from 'typeorm';

/** The providers a consumer calls, by the name its handlers use. */
type Dependencies = Record<string, Type>;

type Resolved<D extends Dependencies> = { [K in keyof D]: InstanceType<D[K]> };

/** One handler: the effect of an envelope, written in the consumer's transaction `tx`. */
export type EventHandle<Deps, D extends EventDefinition> = (
  deps: Deps,
  envelope: EventEnvelope<D>,
  tx: EntityManager,
  ctx: EnvelopeContext<EntityManager>,
) => Promise<unknown>;

export interface EventRoute<Deps> {
  event: EventDefinition;
  extras: EventHandlerOptions & Record<string, unknown>;
  handle(
    deps: Deps,
    envelope: unknown,
    tx: EntityManager,
    ctx: EnvelopeContext<EntityManager>,
  ): Promise<unknown>;
}

/** Declares one handler of a consumer: its event, its group (`consumerGroup(...)`) and its effect. */
export type OnEvent<Deps> = <D extends EventDefinition>(
  event: D,
  extras: EventHandlerOptions & Record<string, unknown>,
  handle: EventHandle<Deps, D>,
) => EventRoute<Deps>;

/**
 * A class of event handlers declared as a table: an `@EventConsumer()` controller (register it in
 * `controllers`) with one `@EventPattern(event.type, extras)` method per row, whose constructor
 * takes the providers named in `deps`. Each row's `handle` gets those providers, the decoded
 * envelope and the transaction its effect must be written in (and the whole context, e.g. for
 * `ctx.attempt`). Consumers stay thin: a row hands the envelope to a use case.
 *
 *   const AuditTrailConsumer = eventConsumer({ trail: AuditTrail }, (on) => [
 *     on(Events.auditRecorded, consumerGroup('audit-trail'), ({ trail }, envelope, tx) => trail.record(envelope, tx)),
 *   ]);
 */
export function eventConsumer<D extends Dependencies>(
  deps: D,
  table: (on: OnEvent<Resolved<D>>) => EventRoute<Resolved<D>>[],
): Type {
  const names = Object.keys(deps);
  const routes = table((event, extras, handle) => ({ event, extras, handle }));

  class Consumer {
    readonly deps: Resolved<D>;
    constructor(...providers: unknown[]) {
      this.deps = Object.fromEntries(names.map((name, i) => [name, providers[i]])) as Resolved<D>;
    }
  }
  names.forEach((name, index) => {
    Inject(deps[name])(Consumer, undefined, index);
  });
  for (const route of routes) {
    const key = `${route.event.type} (${route.extras.group})`;
    const descriptor: PropertyDescriptor = {
      async value(this: Consumer, envelope: unknown, ctx: EnvelopeContext<EntityManager>): Promise<void> {
        await route.handle(this.deps, envelope, ctx.tx, ctx);
      },
      writable: true,
      configurable: true,
    };
    EventPattern(route.event.type, route.extras)(Consumer.prototype, key, descriptor);
    Object.defineProperty(Consumer.prototype, key, descriptor);
    Payload()(Consumer.prototype, key, 0);
    Ctx()(Consumer.prototype, key, 1);
  }
  const groups = new Set(routes.map((r) => r.extras.group));
  Object.defineProperty(Consumer, 'name', { value: `EventConsumer(${[...groups].join(', ')})` });
  EventConsumer()(Consumer);
  return Consumer;
}
