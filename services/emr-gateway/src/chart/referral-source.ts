import type { PhiCipher as EnvelopeCipher, ServiceTokenSource } from '@cloud-connect/phi-client';
import type { Resource } from '@medplum/fhirtypes';
import { isAnyResource } from '../common/fhir-resource';
import { ChartError } from './chart-error';

/** What went wrong on the way, for the log: the error's name and its cause's code (no content). */
function failureOf(error: unknown): string {
  const e = error as Error & { cause?: { code?: unknown; name?: unknown } };
  const cause = e.cause?.code ?? e.cause?.name;
  return typeof cause === 'string' ? `${e.name}: ${cause}` : e.name;
}

/**
 * Reads an inbound message that `referral-intake` holds: its stored envelope over HTTP with an
 * `emr-gateway` service token (`GET /internal/sites/:site/{referrals|forms}/:id/sealed`), opened
 * through the vault service (the envelope is bound to the site and the record id). Plaintext only in
 * memory; nothing of it is logged.
 */
export class ReferralSource {
  constructor(
    private readonly baseUrl: string,
    private readonly tokens: ServiceTokenSource,
    private readonly cipher: EnvelopeCipher,
    private readonly timeoutMs: number,
  ) {}

  /**
   * What intake holds under `referral/<id>` or `form/<id>` (a sourceRef), opened: a message
   * bundle intake validated, or a completed form or check-in it checked.
   */
  async read(site: string, sourceRef: string): Promise<Resource> {
    const [kind, id] = sourceRef.split('/');
    if ((kind !== 'referral' && kind !== 'form') || !id)
      throw new ChartError('unchartable', `unknown source ${kind ?? ''}`);
    let response: Response;
    try {
      response = await fetch(
        `${this.baseUrl.replace(/\/$/, '')}/internal/sites/${site}/${kind}s/${id}/sealed`,
        {
          headers: { authorization: `Bearer ${await this.tokens.tokenFor('referral-intake')}` },
          signal: AbortSignal.timeout(this.timeoutMs),
        },
      );
    } catch (error) {
      throw new ChartError('source-unavailable', `referral-intake unreachable (${failureOf(error)})`);
    }
    if (response.status === 404) {
      throw new ChartError('unchartable', `referral-intake holds no ${kind} ${id} for this site`);
    }
    if (!response.ok)
      throw new ChartError('source-unavailable', `referral-intake answered ${response.status}`);
    const body = (await response.json()) as { recordId: string; ciphertext: string };
    const plaintext = await this.cipher.decrypt(site, body.recordId, Buffer.from(body.ciphertext, 'base64'));
    const content: unknown = JSON.parse(plaintext.toString('utf8'));
    if (!isAnyResource(content))
      throw new ChartError('unchartable', `referral-intake holds no FHIR resource under ${kind} ${id}`);
    return content;
  }
}
