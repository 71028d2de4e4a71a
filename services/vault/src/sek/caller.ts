import { actorOf as principalActor, type Principal } from '@cloud-connect/auth';

/** Who is calling, as SEK custody and the audit trail see it; use cases never see tokens. */
export type Caller = Principal | { kind: 'anonymous' };

export interface RequestContext {
  /** The client address as the HTTP layer saw it (after trusted proxies). */
  sourceAddress: string;
}

/** Audit actor: `user:<id>` for people, `service:<name>` for services, `anonymous` otherwise. */
export function actorOf(caller: Caller): string {
  return caller.kind === 'anonymous' ? 'anonymous' : principalActor(caller);
}
