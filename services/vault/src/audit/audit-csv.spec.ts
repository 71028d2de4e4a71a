import { toCsv } from './audit-trail';

describe('audit CSV export', () => {
  it('quotes every cell, escapes quotes and neutralises formulas', () => {
    const csv = toCsv([
      {
        siteNumber: '1',
        seq: 1,
        auditId: 'a',
        occurredAt: '2026-01-01T00:00:00.000Z',
        actor: '=HYPERLINK("x")',
        action: 'sek.view',
        target: 'site/1/sek',
        outcome: 'allowed',
        sourceAddress: null,
        prevHash: 'p',
        hash: 'h',
        hashAlg: 'hmac-sha256',
      },
    ]);
    const [header, row] = csv.split('\r\n');
    expect(header).toBe('seq,occurredAt,actor,action,target,outcome,sourceAddress,auditId,hash');
    expect(row).toBe(
      '"1","2026-01-01T00:00:00.000Z","\'=HYPERLINK(""x"")","sek.view","site/1/sek","allowed","","a","h"',
    );
  });
});
