import type { AuthDenial, AuthDenialSink } from '@cloud-connect/auth';
import type { SekAction, SekCustody } from './sek-custody';

const SEK_ROUTE = /\/sites\/:site\/sek$/;
const ACTIONS: Record<string, SekAction> = { POST: 'store', PUT: 'replace', GET: 'view', DELETE: 'remove' };

/**
 * Receives every call the auth guard refuses in the vault service; refused SEK attempts are
 * audited as `denied` (and alerted when a signed-in person made them). Never throws: the caller
 * gets its 401/403 regardless.
 */
export class SekDenialAuditor implements AuthDenialSink {
  constructor(private readonly custody: SekCustody) {}

  async denied(denial: AuthDenial): Promise<void> {
    const action = ACTIONS[denial.method];
    if (!denial.site || !action || !SEK_ROUTE.test(denial.route)) return;
    await this.custody
      .recordDenied(denial.site, action, denial.principal ?? { kind: 'anonymous' }, {
        sourceAddress: denial.sourceAddress,
      })
      .catch(() => undefined);
  }
}
