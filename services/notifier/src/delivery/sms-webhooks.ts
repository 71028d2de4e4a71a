import { routeAccess } from '@cloud-connect/auth';
import type { Logger } from '@cloud-connect/observability';
import type { FastifyInstance } from 'fastify';
import type { DataSource } from 'typeorm';
import { smsOptOutKey } from './deliver-notification';
import { DeliveriesRepository } from './deliveries.repository';
import { validTwilioSignature } from '../sms/twilio-signature';

const STOP_WORDS = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'ARRET', 'ARRÊT']);
const START_WORDS = new Set(['START', 'YES', 'UNSTOP']);

export interface SmsWebhookOptions {
  dataSource: DataSource;
  authToken: string;
  /** This service's public base URL, as Twilio calls it (the signature covers the full URL). */
  publicBaseUrl: string;
  optOutKey: string;
  logger: Logger;
}

/**
 * Twilio's webhooks, in their own Fastify scope (form bodies read as text): delivery receipts
 * (`POST /public/sms/twilio/status?site=&n=`: MessageStatus sent / delivered / undelivered /
 * failed onto the delivery row) and inbound messages (`POST /public/sms/twilio/inbound`: STOP
 * and its synonyms, ARRET in French, record the number, as an HMAC, so no SMS goes to it again;
 * START lifts it). Requests without a valid `X-Twilio-Signature` get 403 and change nothing.
 */
export function registerSmsWebhooks(fastify: FastifyInstance, options: SmsWebhookOptions): void {
  const deliveries = new DeliveriesRepository();
  void fastify.register((scope, _opts, done) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, next) =>
      next(null, body),
    );
    const verified = (url: string, signature: unknown, raw: unknown): Record<string, string> | null => {
      const params = Object.fromEntries(new URLSearchParams(typeof raw === 'string' ? raw : ''));
      const full = `${options.publicBaseUrl.replace(/\/$/, '')}${url}`;
      return validTwilioSignature(
        options.authToken,
        full,
        params,
        typeof signature === 'string' ? signature : undefined,
      )
        ? params
        : null;
    };
    scope.post('/public/sms/twilio/status', routeAccess('public'), async (request, reply) => {
      const params = verified(request.url, request.headers['x-twilio-signature'], request.body);
      if (!params) return reply.status(403).send({ error: 'invalid signature' });
      const query = request.query as Record<string, string | undefined>;
      const site = query['site'];
      const notificationId = query['n'];
      const status = params['MessageStatus'] ?? params['SmsStatus'];
      if (!site || !notificationId || !status || !/^[0-9a-f-]{36}$/.test(notificationId))
        return reply.status(400).send({ error: 'site, n and MessageStatus are required' });
      const found = await deliveries.setProviderStatus(
        options.dataSource.manager,
        site,
        notificationId,
        status,
        params['ErrorCode'] ?? null,
      );
      options.logger.info({ notificationId, status, found }, 'sms delivery receipt');
      return reply.status(found ? 204 : 404).send();
    });
    scope.post('/public/sms/twilio/inbound', routeAccess('public'), async (request, reply) => {
      const params = verified(request.url, request.headers['x-twilio-signature'], request.body);
      if (!params) return reply.status(403).send({ error: 'invalid signature' });
      const word = (params['Body'] ?? '').trim().toUpperCase();
      const from = params['From'] ?? '';
      const type =
        params['OptOutType'] ?? (STOP_WORDS.has(word) ? 'STOP' : START_WORDS.has(word) ? 'START' : '');
      if (from && (type === 'STOP' || type === 'START')) {
        await deliveries.setSmsOptOut(
          options.dataSource.manager,
          smsOptOutKey(options.optOutKey, from),
          type === 'STOP',
        );
        options.logger.info({ optOut: type }, 'sms opt-out keyword received');
      }
      return reply
        .status(200)
        .header('content-type', 'text/xml')
        .send('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    });
    done();
  });
}
