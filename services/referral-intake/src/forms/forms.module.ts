import { routeAccess } from '@cloud-connect/auth';
import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Logger } from '@cloud-connect/observability';
import { LOGGER, MessagingService, SERVICE_CONFIG } from '@cloud-connect/service-kit';
import type { FastifyInstance, FastifyReply, FastifyRequest, RequestPayload } from 'fastify';
import { DataSource } from 'typeorm';
import type { IntakeConfig } from '../config';
import { PHI_CIPHER, type PhiCipher } from '../crypto/phi-cipher';
import { AccessTokens } from '../oauth/access-tokens';
import { OAuthModule } from '../oauth/oauth.module';
import { fhirErrorHandler } from '../fhir-messages/fhir-http';
import type { InboundAnswer } from '../fhir-messages/inbound-answers';
import {
  COMPLETED_FORM,
  KIOSK_CHECK_IN,
  ReceiveCompletedForm,
  type InboundProfile,
  type ReceiveFormDeps,
} from './receive-form';

/** The kiosk check-in receiver (same store and event as the completed forms, `Encounter` profile). */
export class ReceiveKioskCheckIn extends ReceiveCompletedForm {}

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

/**
 * `POST /fhir/QuestionnaireResponse` and `POST /fhir/Encounter` (kiosk check-in) in their own
 * Fastify scope (raw body, FHIR answers only).
 */
class FormsHttp implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly receive: ReceiveCompletedForm,
    private readonly logger: Logger,
    private readonly checkIns: ReceiveKioskCheckIn,
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
      const accessToken = (request: FastifyRequest): string | null =>
        BEARER.exec(request.headers.authorization ?? '')?.[1] ?? null;
      const route = (path: string, receiver: ReceiveCompletedForm): void => {
        // The token is checked before the body is read: a refused post is answered without it.
        const checkTokenFirst = async (
          request: FastifyRequest,
          reply: FastifyReply,
          payload: RequestPayload,
        ): Promise<RequestPayload> => {
          const denied = await receiver.tokenRefusal(accessToken(request));
          if (denied) void send(reply, denied);
          return payload;
        };
        scope.post(
          path,
          { ...routeAccess('oauth-client'), preParsing: checkTokenFirst },
          async (request, reply) => {
            await send(
              reply,
              await receiver.execute({
                accessToken: accessToken(request),
                contentType: request.headers['content-type'],
                body: Buffer.isBuffer(request.body) ? request.body : undefined,
              }),
            );
          },
        );
      };
      route('/fhir/QuestionnaireResponse', this.receive);
      route('/fhir/Encounter', this.checkIns);
      done();
    });
  }
}

/** Completed forms from the forms platform, on their way to the patient's chart (docs/emr.md). */
const RECEIVER_DEPS = [DataSource, MessagingService, SERVICE_CONFIG, AccessTokens, PHI_CIPHER];

/** The Nest factory of one inbound receiver (its store, outbox and token checks are shared). */
function receiverFactory<T extends ReceiveCompletedForm>(
  Receiver: new (deps: ReceiveFormDeps) => T,
  profile: InboundProfile,
) {
  return (
    dataSource: DataSource,
    messaging: MessagingService,
    config: IntakeConfig,
    tokens: AccessTokens,
    cipher: PhiCipher,
  ): T =>
    new Receiver({
      dataSource,
      schema: config.DATABASE_SCHEMA,
      outbox: messaging.outbox,
      registry: messaging.registry,
      tokens,
      cipher,
      afterCommit: () => messaging.relay.wake(),
      profile,
    });
}

@Module({
  imports: [OAuthModule],
  providers: [
    {
      provide: ReceiveCompletedForm,
      inject: RECEIVER_DEPS,
      useFactory: receiverFactory(ReceiveCompletedForm, COMPLETED_FORM),
    },
    {
      provide: ReceiveKioskCheckIn,
      inject: RECEIVER_DEPS,
      useFactory: receiverFactory(ReceiveKioskCheckIn, KIOSK_CHECK_IN),
    },
    {
      provide: FormsHttp,
      inject: [HttpAdapterHost, ReceiveCompletedForm, LOGGER, ReceiveKioskCheckIn],
      useFactory: (
        host: HttpAdapterHost,
        receive: ReceiveCompletedForm,
        logger: Logger,
        checkIns: ReceiveKioskCheckIn,
      ) => new FormsHttp(host, receive, logger, checkIns),
    },
  ],
})
export class FormsModule {}
