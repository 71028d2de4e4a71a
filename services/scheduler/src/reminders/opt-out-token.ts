import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/**
 * The "stop reminders" link: the site and the sender's Patient id, signed (HMAC-SHA256 under a key
 * derived from the service secret) so nobody can stop another patient's reminders by guessing.
 * Carries no contact detail.
 */
export class OptOutTokens {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = Buffer.from(hkdfSync('sha256', secret, 'cloud-connect', 'reminder-opt-out-v1', 32));
  }

  sign(siteNumber: string, patientRef: string): string {
    const body = Buffer.from(JSON.stringify([siteNumber, patientRef]), 'utf8').toString('base64url');
    return `${body}.${this.mac(body)}`;
  }

  verify(token: string): { siteNumber: string; patientRef: string } | null {
    const [body, mac] = token.split('.');
    if (!body || !mac) return null;
    const expected = Buffer.from(this.mac(body));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    try {
      const [siteNumber, patientRef] = JSON.parse(
        Buffer.from(body, 'base64url').toString('utf8'),
      ) as unknown[];
      if (typeof siteNumber !== 'string' || typeof patientRef !== 'string') return null;
      return { siteNumber, patientRef };
    } catch {
      return null;
    }
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
