import { routeAccess } from '@cloud-connect/auth';
import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Logger } from '@cloud-connect/observability';
import { LOGGER, MessagingService, SERVICE_CONFIG } from '@cloud-connect/service-kit';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import type { IntakeConfig } from '../config';
import { PHI_CIPHER, type PhiCipher } from '../crypto/phi-cipher';
import { AccessTokens } from '../oauth/access-tokens';
import { OAuthModule } from '../oauth/oauth.module';
import { fhirErrorHandler } from '../fhir-messages/fhir-http';
import type { InboundAnswer } from '../fhir-messages/inbound-answers';
import { ReceiveCompletedForm } from './receive-form';

const FHIR_JSON = 'application/fhir+json; charset=utf-8';
const BEARER = /^Bearer (\S+)$/i;
/** A form with its attachments (base64) stays well under this. */
const FORM_MAX_BYTES = 21 * 1024 * 1024;

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
    private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    void fastify.register((scope, _opts, done) => {
      // Oversized or unreadable requests are answered with an OperationOutcome like every /fhir route.
      scope.setErrorHandler(
        fhirErrorHandler({ logger: this.logger, maxBodyBytes: FORM_MAX_BYTES, what: 'completed form' }),
      );
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser(
        '*',
        { parseAs: 'buffer', bodyLimit: FORM_MAX_BYTES },
        (_req, body, next) => {
          next(null, body);
        },
      );
      scope.post('/fhir/QuestionnaireResponse', routeAccess('oauth-client'), async (request, reply) => {
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
      inject: [HttpAdapterHost, ReceiveCompletedForm, LOGGER],
      useFactory: (host: HttpAdapterHost, receive: ReceiveCompletedForm, logger: Logger) =>
        new FormsHttp(host, receive, logger),
    },
  ],
})
export class FormsModule {}
