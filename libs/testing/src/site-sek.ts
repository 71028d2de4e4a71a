import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { adminSession, createUser } from './identity';
import { registerSite } from './operator';
import { testLogDir } from './service-process';

const TEST_SEKS_FILE = 'test-seks.txt';

/**
 * Every SEK the helpers below stored, so the suite that greps the captured service logs for
 * secrets (services/vault/test/sek.int-spec.ts) checks them too. Test keys only.
 */
export function storedTestSeks(): string[] {
  const file = join(testLogDir(), TEST_SEKS_FILE);
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => line.length > 0)
    : [];
}

export interface ProvisionedSek {
  site: string;
  /** The SEK now current for the site (base64 of 32 random bytes). Keep it out of every log. */
  sek: string;
  adminEmail: string;
  /** An access token of the site's admin from a sign-in of the last 4 minutes. */
  adminToken(): Promise<string>;
  /** Replaces the site's SEK over the real API (earlier versions stay readable); returns the new one. */
  replace(sek?: string): Promise<string>;
}

/** A random, valid SEK: the base64 text of 32 random bytes. */
export const randomSek = (): string => randomBytes(32).toString('base64');

async function putSek(vaultUrl: string, token: string, site: string, method: 'POST' | 'PUT', sek: string) {
  const response = await fetch(`${vaultUrl}/sites/${encodeURIComponent(site)}/sek`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sek }),
    signal: AbortSignal.timeout(30000),
  });
  await response.body?.cancel().catch(() => undefined);
  return response.status;
}

/**
 * Stores `sek` (default: a random one) as the site's SEK with an admin's token over the real API,
 * replacing the current one if Vault already holds one for this site number. Returns the SEK.
 */
export async function storeSiteSek(
  vaultUrl: string,
  adminToken: string,
  site: string,
  sek: string = randomSek(),
): Promise<string> {
  appendFileSync(join(testLogDir(), TEST_SEKS_FILE), `${sek}\n`, { mode: 0o600 });
  let status = await putSek(vaultUrl, adminToken, site, 'POST', sek);
  if (status === 409) status = await putSek(vaultUrl, adminToken, site, 'PUT', sek);
  if (status !== 200 && status !== 201) throw new Error(`storing the SEK of site ${site} failed: ${status}`);
  return sek;
}

/**
 * Gives a site an SEK the way a clinic does: the site exists in the vault service's directory
 * (registered through the operator API if it is not there yet), a site admin is created and signs in through the
 * running vault service, and stores a random valid SEK over `POST /sites/:site/sek` (or replaces
 * it, when Vault — shared by every suite on the stack — already holds one for this site number).
 */
export async function provisionSiteSek(options: {
  vaultUrl: string;
  site: string;
  sek?: string;
}): Promise<ProvisionedSek> {
  const { vaultUrl, site } = options;
  await registerSite(vaultUrl, { siteNumber: site, locale: 'en' });
  const adminEmail = `sek-admin-${site}-${randomBytes(4).toString('hex')}@test.invalid`;
  const password = `pw-${randomBytes(12).toString('hex')}`;
  await createUser({
    vaultUrl,
    email: adminEmail,
    password,
    siteNumber: site,
    role: 'admin',
  });
  const adminToken = adminSession(vaultUrl, adminEmail, password);
  let sek = await storeSiteSek(vaultUrl, await adminToken(), site, options.sek);
  return {
    site,
    get sek() {
      return sek;
    },
    adminEmail,
    adminToken,
    async replace(next = randomSek()): Promise<string> {
      appendFileSync(join(testLogDir(), TEST_SEKS_FILE), `${next}\n`, { mode: 0o600 });
      const replaced = await putSek(vaultUrl, await adminToken(), site, 'PUT', next);
      if (replaced !== 200) throw new Error(`replacing the SEK of site ${site} failed: ${replaced}`);
      sek = next;
      return next;
    },
  };
}

/** Removes a site's SEK and all its versions (the admin must have signed in within 5 minutes). */
export async function removeSiteSek(vaultUrl: string, provisioned: ProvisionedSek): Promise<number> {
  const response = await fetch(`${vaultUrl}/sites/${encodeURIComponent(provisioned.site)}/sek`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${await provisioned.adminToken()}` },
    signal: AbortSignal.timeout(30000),
  });
  await response.body?.cancel().catch(() => undefined);
  return response.status;
}
