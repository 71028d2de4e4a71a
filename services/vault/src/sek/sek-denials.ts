import type { AuthDenial, AuthDenialSink } from '@cloud-connect/auth';
import type { SekAction, SekCustody } from './sek-custody';

const SEK_ROUTE = /\/sites\/:site\/sek$/;
const ACTIONS: Record<string, SekAction> = { POST: 'store', PUT: 'replace', GET: 'view', DELETE: 'remove' };
/** The removal's follow-ups (POST …/sek/restore, …/sek/destroy-approval, …/sek/destroy). */
const FOLLOW_UPS: Record<string, SekAction> = {
  restore: 'restore',
  'destroy-approval': 'approve-destroy',
  destroy: 'destroy',
};

function actionOf(method: string, route: string): SekAction | undefined {
  if (SEK_ROUTE.test(route)) return ACTIONS[method];
  const followUp = /\/sites\/:site\/sek\/([a-z-]+)$/.exec(route)?.[1];
  return method === 'POST' && followUp ? FOLLOW_UPS[followUp] : undefined;
}

/**
 * Receives every call the auth guard refuses in the vault service; refused SEK attempts are
 * audited as `denied` (and alerted when a signed-in person made them). Never throws: the caller
 * gets its 401/403 regardless.
 */
export class SekDenialAuditor implements AuthDenialSink {
  constructor(private readonly custody: SekCustody) {}

  async denied(denial: AuthDenial): Promise<void> {
    const action = actionOf(denial.method, denial.route);
    if (!denial.site || !action) return;
    await this.custody
      .recordDenied(denial.site, action, denial.principal ?? { kind: 'anonymous' }, {
        sourceAddress: denial.sourceAddress,
      })
      .catch(() => undefined);
  }
}
