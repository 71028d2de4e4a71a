import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import {
  baseServiceEnv,
  ConfigError,
  loadConfig,
  phiServiceEnvSchema,
  requireVaultAuth,
  serviceEnvSchema,
  vaultClientEnv,
} from './index';

const schema = serviceEnvSchema({ port: 3001, schema: 'intake' }, {});
const good = {
  DATABASE_URL: 'postgres://u:p@localhost:5432/db',
  KAFKA_BROKERS: 'a:9092, b:9092',
  SERVICE_AUTH_SECRET: 'x'.repeat(32),
};

describe('loadConfig', () => {
  it('returns typed values with defaults applied', () => {
    const config = loadConfig(schema, good);
    expect(config.PORT).toBe(3001);
    expect(config.DATABASE_SCHEMA).toBe('intake');
    expect(config.KAFKA_BROKERS).toEqual(['a:9092', 'b:9092']);
    expect(config.LOG_LEVEL).toBe('info');
  });

  it('names every missing variable, not only the first', () => {
    expect(() => loadConfig(schema, {})).toThrow(ConfigError);
    try {
      loadConfig(schema, {});
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        'DATABASE_URL is required but not set',
        'KAFKA_BROKERS is required but not set',
        'SERVICE_AUTH_SECRET is required but not set',
      ]);
    }
  });

  it('says which variable is invalid without echoing its value', () => {
    const secretish = 'mysql://root:hunter2@db/x';
    let message = '';
    try {
      loadConfig(schema, { ...good, DATABASE_URL: secretish, PORT: '70000' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('DATABASE_URL is invalid');
    expect(message).toContain('PORT is invalid');
    expect(message).not.toContain('hunter2');
  });

  it('rejects a schema name that is not a safe SQL identifier', () => {
    expect(() => loadConfig(schema, { ...good, DATABASE_SCHEMA: 'x; drop table' })).toThrow(
      /DATABASE_SCHEMA is invalid/,
    );
  });

  it('requires the variables of the chosen Vault auth method', () => {
    const vaultSchema = baseServiceEnv.extend(vaultClientEnv.shape).superRefine(requireVaultAuth);
    const base = { ...good, VAULT_ADDR: 'http://127.0.0.1:8200' };
    expect(() => loadConfig(vaultSchema, base)).toThrow(
      /VAULT_TOKEN is not set \(required when VAULT_AUTH_METHOD=token\)/,
    );
    expect(() =>
      loadConfig(vaultSchema, { ...base, VAULT_AUTH_METHOD: 'approle', VAULT_ROLE_ID: 'r' }),
    ).toThrow(/VAULT_SECRET_ID is not set/);
    expect(loadConfig(vaultSchema, { ...base, VAULT_TOKEN: 't' }).VAULT_AUTH_METHOD).toBe('token');
  });

  it('gives a PHI service the Vault, PHI and egress variables with their rules', () => {
    const phiSchema = phiServiceEnvSchema({ port: 3002, schema: 'gw' }, { EXTRA: z.string().default('e') });
    const base = {
      ...good,
      VAULT_ADDR: 'http://127.0.0.1:8200',
      VAULT_SERVICE_URL: 'http://127.0.0.1:3003',
    };
    expect(() => loadConfig(phiSchema, base)).toThrow(/VAULT_TOKEN is not set/);
    expect(() => loadConfig(phiSchema, { ...base, VAULT_TOKEN: 't', EGRESS_ALLOW_LOOPBACK: 'true' })).toThrow(
      /EGRESS_ALLOW_LOOPBACK is invalid \(must not be true when NODE_ENV=production\)/,
    );
    const config = loadConfig(phiSchema, {
      ...base,
      VAULT_TOKEN: 't',
      NODE_ENV: 'test',
      EGRESS_ALLOW_LOOPBACK: '1',
    });
    expect([config.PORT, config.PHI_TIMEOUT_MS, config.EGRESS_ALLOW_LOOPBACK, config.EXTRA]).toEqual([
      3002,
      10000,
      true,
      'e',
    ]);
  });

  it('parses booleans strictly', () => {
    const flags = z.object({ F: z.enum(['true', 'false']) });
    expect(() => loadConfig(flags, { F: 'yes' })).toThrow(/F is invalid/);
  });

  it('takes TLS_CERT_FILE and TLS_KEY_FILE together or not at all, and checks the files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'config-tls-'));
    const key = join(dir, 'key.pem');
    writeFileSync(
      key,
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }),
    );
    const notACertificate = join(dir, 'cert.pem');
    writeFileSync(notACertificate, 'hello');
    expect(() => loadConfig(schema, { ...good, TLS_KEY_FILE: key })).toThrow(
      /TLS_CERT_FILE is not set \(required when TLS_KEY_FILE is set\)/,
    );
    expect(() => loadConfig(schema, { ...good, TLS_CERT_FILE: notACertificate })).toThrow(
      /TLS_KEY_FILE is not set \(required when TLS_CERT_FILE is set\)/,
    );
    expect(() => loadConfig(schema, { ...good, TLS_CERT_FILE: notACertificate, TLS_KEY_FILE: key })).toThrow(
      /TLS_CERT_FILE is invalid \(the file is not a PEM certificate\)/,
    );
    expect(() =>
      loadConfig(schema, { ...good, TLS_CERT_FILE: notACertificate, TLS_KEY_FILE: join(dir, 'missing.pem') }),
    ).toThrow(/TLS_KEY_FILE is invalid \(no such file\)/);
    expect(loadConfig(schema, good).TLS_CERT_FILE).toBeUndefined();
  });

  it('refuses a Postgres CA file when TLS to Postgres is disabled', () => {
    expect(() =>
      loadConfig(schema, { ...good, DATABASE_SSL_MODE: 'disable', DATABASE_CA_FILE: '/etc/ca.pem' }),
    ).toThrow(/DATABASE_CA_FILE is invalid \(set while DATABASE_SSL_MODE=disable/);
    expect(() => loadConfig(schema, { ...good, DATABASE_SSL_MODE: 'require' })).toThrow(
      /DATABASE_SSL_MODE is invalid/,
    );
  });
});
