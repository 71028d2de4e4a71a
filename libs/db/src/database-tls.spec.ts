import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databaseSsl, describeDatabaseTlsError } from './data-source';

function errorWithCode(message: string, code?: string): Error {
  return Object.assign(new Error(message), code ? { code } : {});
}

describe('TLS to Postgres', () => {
  it('leaves TLS to the URL when nothing is set, and turns it off or on with verification', () => {
    expect(databaseSsl(undefined)).toBeUndefined();
    expect(databaseSsl({})).toBeUndefined();
    expect(databaseSsl({ mode: 'disable' })).toBe(false);
    expect(databaseSsl({ mode: 'verify-full' })).toEqual({ rejectUnauthorized: true });
  });

  it('trusts the CA file (which alone implies verify-full)', () => {
    const caFile = join(mkdtempSync(join(tmpdir(), 'db-tls-')), 'ca.pem');
    writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\n');
    expect(databaseSsl({ caFile })).toEqual({
      rejectUnauthorized: true,
      ca: '-----BEGIN CERTIFICATE-----\n',
    });
  });

  it('names a certificate problem in one sentence, without the driver text', () => {
    const altName = errorWithCode(
      "Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: ",
      'ERR_TLS_CERT_ALTNAME_INVALID',
    );
    expect(describeDatabaseTlsError(altName)).toBe(
      "TLS to Postgres failed: the server's certificate does not name the host of the URL (ERR_TLS_CERT_ALTNAME_INVALID)",
    );
    expect(
      describeDatabaseTlsError(
        errorWithCode('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN'),
      ),
    ).toMatch(/not signed by a trusted CA .*\(SELF_SIGNED_CERT_IN_CHAIN\)$/);
    expect(describeDatabaseTlsError(new Error('The server does not support SSL connections'))).toBe(
      'TLS to Postgres failed: the server does not accept TLS connections',
    );
  });

  it('leaves other errors to the retries', () => {
    expect(
      describeDatabaseTlsError(errorWithCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')),
    ).toBeUndefined();
    expect(
      describeDatabaseTlsError(errorWithCode('password authentication failed', '28P01')),
    ).toBeUndefined();
    expect(describeDatabaseTlsError(undefined)).toBeUndefined();
  });
});
