import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { MessagingService, SERVICE_CONFIG } from '@cloud-connect/service-kit';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import type { IntakeConfig } from '../config';
import { PHI_CIPHER, type PhiCipher } from '../crypto/phi-cipher';
import { AccessTokens } from '../oauth/access-tokens';
import { OAuthModule } from '../oauth/oauth.module';
import type { InboundAnswer } from '../referrals/inbound-answers';
import { ReceiveCompletedForm } from './receive-form';

const FHIR_JSON = 'application/fhir+json; charset=utf-8';
const BEARER = /^Bearer (\S+)$/i;

function send(reply: FastifyReply, answer: InboundAnswer): FastifyReply {
  if (answer.headers) void reply.headers(answer.headers);
  if (answer.retryAfterSeconds !== undefined)
    void reply.header('Retry-After', String(answer.retryAfterSeconds));
  return reply.status(answer.status).header('Content-Type', FHIR_JSON).send(JSON.stringify(answer.body));
}

/** `POST /fhir/QuestionnaireResponse` in its own Fastify scope (raw body, FHIR answers only). */
class FormsHttp implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly receive: ReceiveCompletedForm,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    void fastify.register((scope, _opts, done) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser(
        '*',
        { parseAs: 'buffer', bodyLimit: 21 * 1024 * 1024 },
        (_req, body, next) => {
          next(null, body);
        },
      );
      scope.post('/fhir/QuestionnaireResponse', async (request, reply) => {
        const bearer = BEARER.exec(request.headers.authorization ?? '');
        await send(
          reply,
          await this.receive.execute({
            accessToken: bearer?.[1] ?? null,
            contentType: request.headers['content-type'],
            body: Buffer.isBuffer(request.body) ? request.body : undefined,
          }),
        );
      });
      done();
    });
  }
}

/** Completed forms from the forms platform, on their way to the patient's chart (docs/emr.md). */
@Module({
  imports: [OAuthModule],
  providers: [
    {
      provide: ReceiveCompletedForm,
      inject: [DataSource, MessagingService, SERVICE_CONFIG, AccessTokens, PHI_CIPHER],
      useFactory: (
        dataSource: DataSource,
        messaging: MessagingService,
        config: IntakeConfig,
        tokens: AccessTokens,
        cipher: PhiCipher,
      ) =>
        new ReceiveCompletedForm({
          dataSource,
          schema: config.DATABASE_SCHEMA,
          outbox: messaging.outbox,
          registry: messaging.registry,
          tokens,
          cipher,
          afterCommit: () => messaging.relay.wake(),
        }),
    },
    {
      provide: FormsHttp,
      inject: [HttpAdapterHost, ReceiveCompletedForm],
      useFactory: (host: HttpAdapterHost, receive: ReceiveCompletedForm) => new FormsHttp(host, receive),
    },
  ],
})
export class FormsModule {}
