// Attack suite, audit trail: someone with write access to the database (a superuser bypassing
// the append-only trigger) rewrites an entry and re-links every later entry with fresh hashes,
// plain SHA-256 or HMAC under a key of their own (they do not have the audit key, which only
// Vault holds), or deletes the tail of a chain. `audit verify` (operator API and CLI) must name the
// first bad sequence number, and the anchorer must refuse to move the anchor over it.
import {
  operatorCall,
  provisionSiteSek,
  stackEnv,
  TestCli,
  uniqueName,
  waitFor,
  type StackEnv,
} from '@cloud-connect/testing';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { entryHash, entryHmac, GENESIS_HASH, type AuditEntry } from '../../vault/src/audit/audit-chain';
import { startVaultService, type VaultUnderTest } from './support';

const env = stackEnv();
const prefix = uniqueName('atkaudit');
const vaultSchema = `${prefix}_vault`;
const site = String(800000000 + Math.floor(Math.random() * 99999999));
const tailSite = String(Number(site) + 1);
const LIFETIMES = { tokenTtl: '60s', tokenMaxTtl: '300s' };

interface Row {
  seq: string;
  audit_id: string;
  occurred_at: Date;
  actor: string;
  action: string;
  target: string;
  outcome: AuditEntry['outcome'];
  source_address: string | null;
  hash: string;
}

async function superuser(stack: StackEnv): Promise<Client> {
  const url = new URL(stack.DATABASE_ADMIN_URL);
  url.pathname = new URL(stack.DATABASE_URL).pathname;
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  return client;
}

async function anchorOf(siteNumber: string): Promise<{ seq: number; hash: string; version: number } | null> {
  const response = await fetch(`${env.VAULT_ADDR}/v1/secret/data/audit/chains/${vaultSchema}/${siteNumber}`, {
    headers: { 'x-vault-token': env.VAULT_TOKEN },
    signal: AbortSignal.timeout(10000),
  });
  if (response.status === 404) return null;
  const body = (await response.json()) as {
    data: { data: { seq: number; hash: string }; metadata: { version: number } };
  };
  return { ...body.data.data, version: body.data.metadata.version };
}

describe('attack suite: the audit chain (keyed, anchored in Vault)', () => {
  let vault: VaultUnderTest;
  let db: Client;
  let cli: TestCli;

  async function rows(siteNumber: string): Promise<Row[]> {
    const result = await db.query<Row>(
      `SELECT seq, audit_id, occurred_at, actor, action, target, outcome, source_address, hash
         FROM "${vaultSchema}".audit_entries WHERE site_number = $1 ORDER BY seq`,
      [siteNumber],
    );
    return result.rows;
  }

  /** Waits until the site has at least `min` entries and its anchor in Vault is its head. */
  async function anchoredHead(siteNumber: string, min: number): Promise<number> {
    return waitFor(
      `site ${siteNumber} anchored at its head`,
      async () => {
        const all = await rows(siteNumber);
        const head = all[all.length - 1];
        if (all.length < min || !head) return undefined;
        const anchor = await anchorOf(siteNumber);
        return anchor && anchor.seq === Number(head.seq) && anchor.hash === head.hash
          ? anchor.seq
          : undefined;
      },
      { timeoutMs: 60000 },
    );
  }

  /** Rewrites entry `from` (new actor) and re-links every later entry, as the attacker can. */
  async function rewriteFrom(
    siteNumber: string,
    from: number,
    link: 'sha256' | 'hmac-sha256',
  ): Promise<void> {
    const attackerKey = randomBytes(32);
    const all = await rows(siteNumber);
    const admin = await superuser(env);
    try {
      await admin.query('BEGIN');
      await admin.query('SET LOCAL session_replication_role = replica');
      let prev = all[from - 2]?.hash ?? GENESIS_HASH;
      for (const row of all.slice(from - 1)) {
        const entry: AuditEntry = {
          siteNumber,
          seq: Number(row.seq),
          auditId: row.audit_id,
          occurredAt: row.occurred_at.toISOString(),
          actor: Number(row.seq) === from ? 'user:somebody-else' : row.actor,
          action: row.action,
          target: row.target,
          outcome: row.outcome,
          sourceAddress: row.source_address,
        };
        const hash = link === 'sha256' ? entryHash(entry, prev) : entryHmac(entry, prev, attackerKey);
        await admin.query(
          `UPDATE "${vaultSchema}".audit_entries SET actor = $3, prev_hash = $4, hash = $5, hash_alg = $6
            WHERE site_number = $1 AND seq = $2`,
          [siteNumber, entry.seq, entry.actor, prev, hash, link],
        );
        prev = hash;
      }
      await admin.query('COMMIT');
    } finally {
      await admin.end();
    }
  }

  async function alerts(reason: string): Promise<number> {
    const metrics = await (await fetch(`${vault.service.url}/metrics`)).text();
    const match = new RegExp(
      `^audit_anchor_alerts_total\\{[^}]*reason="${reason}"[^}]*\\} (\\S+)$`,
      'm',
    ).exec(metrics);
    return Number(match?.[1] ?? 0);
  }

  beforeAll(async () => {
    db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    vault = await startVaultService(env, vaultSchema, `atk-audit-${prefix}`, LIFETIMES, {
      AUDIT_ANCHOR_INTERVAL_SECONDS: '1',
    });
    cli = new TestCli(vault.service.url);
    await cli.operator();
    await provisionSiteSek({ vaultUrl: vault.service.url, site });
    await provisionSiteSek({ vaultUrl: vault.service.url, site: tailSite });
  }, 240000);

  afterAll(async () => {
    await vault?.service.stop();
    await vault?.remove();
    await db.query(`DROP SCHEMA IF EXISTS "${vaultSchema}" CASCADE`);
    await db.end();
  });

  it('an intact keyed chain verifies against its anchor (operator API and CLI)', async () => {
    const anchored = await anchoredHead(site, 3);
    expect((await rows(site)).length).toBeGreaterThanOrEqual(anchored);
    const verified = await cli.raw(['audit', 'verify', '--operator', '--site', site]);
    expect(verified.code).toBe(0);
    expect(verified.json).toMatchObject({ ok: true, sites: [{ siteNumber: site, ok: true }] });
    expect(verified.json['sites'][0].anchoredSeq).toBeGreaterThanOrEqual(anchored);
  }, 120000);

  it("a row rewritten and re-linked under a key of the attacker's own is named; the anchor stays", async () => {
    await anchoredHead(site, 3);
    const before = await anchorOf(site);
    await rewriteFrom(site, 2, 'hmac-sha256');
    const broken = await cli.raw(['audit', 'verify', '--operator', '--site', site]);
    expect(broken.code).toBe(1);
    expect(broken.json).toMatchObject({
      error: {
        code: 'audit-chain-broken',
        details: ['brokenAtSeq=2', 'problem=hash-mismatch', expect.any(String)],
      },
    });
    expect(broken.stderr).toContain(`site ${site} is broken at entry 2`);
    // The anchorer sees the anchored entry changed: an alert, and the anchor is not moved.
    await waitFor(
      'an anchor-mismatch alert',
      async () => ((await alerts('anchor-mismatch')) > 0 ? true : undefined),
      {
        timeoutMs: 30000,
      },
    );
    expect(await anchorOf(site)).toEqual(before);
  }, 120000);

  it('a suffix re-linked with fresh plain SHA-256 hashes is named at its first entry', async () => {
    await rewriteFrom(site, 2, 'sha256');
    const answer = await operatorCall(vault.service.url, 'GET', `/operator/audit/verify?site=${site}`);
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({
      ok: false,
      sites: [{ siteNumber: site, ok: false, brokenAtSeq: 2, problem: 'unkeyed-after-keyed' }],
    });
    const broken = await cli.raw(['audit', 'verify', '--operator', '--site', site]);
    expect(broken.code).toBe(1);
    expect(broken.json).toMatchObject({
      error: { details: ['brokenAtSeq=2', 'problem=unkeyed-after-keyed', expect.any(String)] },
    });
  }, 120000);

  it('a deleted tail is named (the first missing entry), and by the all-sites verify', async () => {
    const anchored = await anchoredHead(tailSite, 3);
    const admin = await superuser(env);
    try {
      await admin.query('BEGIN');
      await admin.query('SET LOCAL session_replication_role = replica');
      await admin.query(`DELETE FROM "${vaultSchema}".audit_entries WHERE site_number = $1 AND seq >= $2`, [
        tailSite,
        anchored - 1,
      ]);
      await admin.query('COMMIT');
    } finally {
      await admin.end();
    }
    const broken = await cli.raw(['audit', 'verify', '--operator', '--site', tailSite]);
    expect(broken.code).toBe(1);
    expect(broken.json).toMatchObject({
      error: { details: [`brokenAtSeq=${anchored - 1}`, 'problem=truncated', 'auditId=(missing)'] },
    });
    await waitFor(
      'a behind-anchor alert',
      async () => ((await alerts('behind-anchor')) > 0 ? true : undefined),
      {
        timeoutMs: 30000,
      },
    );
    // Every site at once: both broken chains are named; the exit code says so.
    const all = await cli.raw(['audit', 'verify', '--operator']);
    expect(all.code).toBe(1);
    expect(all.stderr).toContain(`site ${site} is broken at entry 2`);
    expect(all.stderr).toContain(`site ${tailSite} is broken at entry ${anchored - 1}`);
  }, 120000);

  it('the operator route refuses anything but an operator credential, and a bad site number', async () => {
    const anonymous = await fetch(`${vault.service.url}/operator/audit/verify`);
    expect(anonymous.status).toBe(401);
    const bad = await operatorCall(vault.service.url, 'GET', '/operator/audit/verify?site=0');
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ code: 'invalid-site' });
  }, 60000);
});
