/** Who posted an inbound message, once authenticated: an integration (API key) or an OAuth client. */
export type Sender =
  | {
      kind: 'integration';
      site: string;
      id: string;
      rateLimitPerSecond: number | null;
      /** It gets copies of the site's new referrals (so it receives them). */
      receivesCopies: boolean;
    }
  | { kind: 'oauth-client'; site: string; id: string; scopes: string[] };

/** How a sender is named where it changed something (`changedBy` of status events). */
export function senderLabel(sender: Sender): string {
  return `${sender.kind}:${sender.id}`;
}
