import { schemaOf } from '@cloud-connect/db';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The private halves of the access-token signing keys used to be sealed by the retired
 * development PHI cipher (one AES key from INTAKE_PHI_KEY) under a pseudo-site; they are now
 * sealed under referral-intake's service key in Vault (crypto/service-keys.ts), and the old
 * ciphertexts cannot be opened any more. Drop those rows: the service makes a new key at start.
 * Access tokens signed with a dropped key (lifetime minutes) stop verifying; integrators get a new
 * token at /oauth/token as they do at expiry.
 */
export class OAuthSigningKeysServiceSealed1732300004100 implements MigrationInterface {
  name = 'OAuthSigningKeysServiceSealed1732300004100';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`DELETE FROM "${schemaOf(runner)}".oauth_signing_keys`);
  }

  async down(): Promise<void> {
    // Nothing to restore: the dropped ciphertexts were unreadable.
  }
}
