import { Injectable, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type CustomTransportStrategy, type MessageHandler, Server } from '@nestjs/microservices';
import { consumerGroup, defineEvent, EnvelopeContext, type Envelope } from '@cloud-connect/kafka';
import { lastValueFrom } from 'rxjs';
import type { EntityManager } from 'typeorm';
import { z } from 'zod';
import { eventConsumer } from './event-consumers';

const Noted = defineEvent('test.noted', 1, 'test.notes', z.object({ text: z.string() }));
const Ordered = defineEvent('test.ordered', 1, 'test.orders', z.object({ item: z.string() }));

@Injectable()
class Notebook {
  readonly written: { text: string; tx: unknown; attempt: number }[] = [];
}

@Injectable()
class Orders {
  readonly placed: string[] = [];
}

const TestConsumer = eventConsumer({ notebook: Notebook, orders: Orders }, (on) => [
  on(Noted, consumerGroup('notes', { concurrency: 1 }), ({ notebook }, envelope, tx, ctx) => {
    notebook.written.push({ text: envelope.payload.text, tx, attempt: ctx.attempt });
    return Promise.resolve();
  }),
  on(Ordered, consumerGroup('orders'), ({ orders }, envelope) => {
    if (envelope.payload.item === 'nothing') return Promise.reject(new Error('nothing to order'));
    orders.placed.push(envelope.payload.item);
    return Promise.resolve(orders.placed.length);
  }),
]);

@Module({ controllers: [TestConsumer], providers: [Notebook, Orders] })
class TestModule {}

/** Hands out the handlers Nest registered, as the Kafka transport finds them. */
class CapturingTransport extends Server implements CustomTransportStrategy {
  listen(callback: () => void): void {
    callback();
  }
  close(): void {}
  on(): never {
    throw new Error('no events');
  }
  /** Nest's signature: the caller names what it expects. */
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
  unwrap<T>(): T {
    return undefined as T;
  }
  handlers(): Map<string, MessageHandler> {
    return this.messageHandlers;
  }
  /** Calls the handler of `pattern` as the Kafka transport does (its errors come back as they were). */
  async deliver(pattern: string, envelope: Envelope, ctx: EnvelopeContext<EntityManager>): Promise<void> {
    const handler = this.messageHandlers.get(pattern);
    if (!handler) throw new Error(`no handler of ${pattern}`);
    const result: unknown = await handler(envelope, ctx);
    await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
  }
}

function envelopeOf<P>(type: string, payload: P): Envelope<P> {
  return { type, payload } as unknown as Envelope<P>;
}

function contextOf(envelope: Envelope, tx: unknown, attempt: number): EnvelopeContext<EntityManager> {
  return new EnvelopeContext<EntityManager>([{ tx, attempt, topic: 'test.notes' } as never, envelope]);
}

describe('eventConsumer: event handlers declared as a table', () => {
  let app: INestMicroservice;
  let transport: CapturingTransport;

  beforeAll(async () => {
    transport = new CapturingTransport();
    app = await NestFactory.createMicroservice(TestModule, { strategy: transport, logger: false });
    await app.listen();
  });

  afterAll(async () => {
    await app.close();
  });

  it('registers one @EventPattern handler per row, with its consumer group and options', () => {
    const handlers = transport.handlers();
    expect([...handlers.keys()].sort()).toEqual(['test.noted', 'test.ordered']);
    expect(handlers.get('test.noted')?.isEventHandler).toBe(true);
    expect(handlers.get('test.noted')?.extras).toEqual({ group: 'notes', concurrency: 1 });
    expect(handlers.get('test.ordered')?.extras).toEqual({ group: 'orders' });
  });

  it('gives a row its providers, the envelope, the transaction and the context', async () => {
    const envelope = envelopeOf('test.noted', { text: 'hello' });
    const tx = { name: 'the consumer transaction' };
    await transport.deliver('test.noted', envelope, contextOf(envelope, tx, 2));
    expect(app.get(Notebook).written).toEqual([{ text: 'hello', tx, attempt: 2 }]);
  });

  it('hands a row’s error on unchanged (the transport decides retry or dead-letter)', async () => {
    const failing = envelopeOf('test.ordered', { item: 'nothing' });
    await expect(transport.deliver('test.ordered', failing, contextOf(failing, {}, 1))).rejects.toThrow(
      'nothing to order',
    );
    const placed = envelopeOf('test.ordered', { item: 'pens' });
    await transport.deliver('test.ordered', placed, contextOf(placed, {}, 1));
    expect(app.get(Orders).placed).toEqual(['pens']);
  });
});
