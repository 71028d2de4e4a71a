import { randomUUID } from 'node:crypto';
import {
  canonicalJson,
  entryHash,
  GENESIS_HASH,
  verifyChain,
  type AuditEntry,
  type ChainedEntry,
} from './audit-chain';

function chain(n: number): ChainedEntry[] {
  const out: ChainedEntry[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq += 1) {
    const entry: AuditEntry = {
      siteNumber: '42',
      seq,
      auditId: randomUUID(),
      occurredAt: new Date(1700000000000 + seq * 1000).toISOString(),
      actor: 'admin:a@b.ca',
      action: 'sek.view',
      target: 'site/42/sek',
      outcome: 'allowed',
      sourceAddress: '127.0.0.1',
    };
    const hash = entryHash(entry, prev);
    out.push({ ...entry, prevHash: prev, hash });
    prev = hash;
  }
  return out;
}

describe('audit hash chain', () => {
  it('canonical JSON sorts keys at every level and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[1,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('verifies an intact chain and reports its head', async () => {
    const entries = chain(5);
    expect(await verifyChain(entries)).toEqual({ ok: true, entries: 5, headHash: entries[4]?.hash });
  });

  it('pinpoints an edited row', async () => {
    const entries = chain(5);
    entries[2] = { ...entries[2]!, actor: 'admin:someone-else@b.ca' };
    expect(await verifyChain(entries)).toMatchObject({ ok: false, brokenAtSeq: 3, problem: 'hash-mismatch' });
  });

  it('pinpoints a row edited together with its own hash (the next link breaks)', async () => {
    const entries = chain(5);
    const edited = { ...entries[1]!, outcome: 'denied' as const };
    entries[1] = { ...edited, hash: entryHash(edited, edited.prevHash) };
    expect(await verifyChain(entries)).toMatchObject({
      ok: false,
      brokenAtSeq: 3,
      problem: 'prev-hash-mismatch',
    });
  });

  it('pinpoints a deleted row', async () => {
    const entries = chain(5);
    entries.splice(3, 1);
    expect(await verifyChain(entries)).toMatchObject({ ok: false, brokenAtSeq: 5, problem: 'sequence-gap' });
  });
});
