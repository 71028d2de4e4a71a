import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Notification parameters that must not travel in clear on Kafka (a one-time password link):
 * AES-256-GCM under a key derived (HKDF-SHA256) from the services' shared secret, bound to the
 * site and the notification id. The sender seals, the notifier opens at send time.
 */
export const SEALED_PARAMS_ALG = 'cc-sealed-params-v1' as const;

export interface SealedParams {
  alg: typeof SEALED_PARAMS_ALG;
  envelope: string;
}

export class SealedParamsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealedParamsError';
  }
}

function keyOf(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'cloud-connect', 'notification-params-v1', 32));
}

export function sealParams(
  secret: string,
  site: string,
  notificationId: string,
  params: Record<string, string>,
): SealedParams {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyOf(secret), iv);
  cipher.setAAD(Buffer.from(`${site}:${notificationId}`));
  const body = Buffer.concat([cipher.update(JSON.stringify(params), 'utf8'), cipher.final()]);
  return {
    alg: SEALED_PARAMS_ALG,
    envelope: Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64'),
  };
}

export function openParams(
  secret: string,
  site: string,
  notificationId: string,
  sealed: SealedParams,
): Record<string, string> {
  const raw = Buffer.from(sealed.envelope, 'base64');
  if (sealed.alg !== SEALED_PARAMS_ALG || raw.length < 29)
    throw new SealedParamsError('sealed params are malformed');
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyOf(secret), raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(`${site}:${notificationId}`));
    decipher.setAuthTag(raw.subarray(12, 28));
    const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    const value = JSON.parse(text) as unknown;
    if (!value || typeof value !== 'object') throw new Error('not an object');
    return Object.fromEntries(
      Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
  } catch {
    throw new SealedParamsError('sealed params do not open (wrong key, site or notification)');
  }
}
